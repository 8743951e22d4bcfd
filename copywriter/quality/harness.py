"""The quality eval: run briefs through one or more generation paths, check every variant, and
summarise per path and per template kind.

A *path* is a way of turning (brief, tone, number of variants) into shown variants. ``current``
is today's product path, run in-process exactly as a worker runs it: ``generation_create`` (the
same validation, prompt rendering, token budget and sampling), then the worker's own
path in this process (``copywriter.pipeline.local``: the same scheduler, engine session
with continuous batching, and originality review with its rewrites). Later work registers
its own path with ``@register_path("name")`` and is measured against ``current`` by the same
command.

Generations live in a scratch workspace of their own, on a private queue (so no worker picks
them up and no user's queued job joins the batches), and the workspace is deleted at the end.
"""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from copywriter.generation.models import Generation, Status
from copywriter.generation.services import generation_create
from copywriter.pipeline.local import run_queued
from copywriter.quality.briefs import template_kind
from copywriter.quality.checks import VariantChecks, check_variant, rules_for
from copywriter.workspaces.models import Workspace

EVAL_EMAIL = "eval-quality@localhost"
WORKSPACE_PREFIX = "Quality eval"


@dataclass
class Job:
    brief: Mapping[str, Any]
    tone: str
    variants: int


@dataclass
class Shown:
    """One variant as the user would see it, and what it cost."""
    brief_id: str
    tone: str
    index: int
    text: str
    tokens: int  # every token generated for this slot, rewrites included
    seconds: float  # its share of its batch's wall time (engine, review, storage)
    prompt: str
    finish_reason: str = ""
    originality: str | None = None
    error: str = ""
    choice: Any = None  # best of N's record: per item, the chosen candidate or why none was


@dataclass
class Context:
    membership: Any
    templates: Mapping[str, Any]  # template id -> catalog Template
    seed: int
    engine: Any = None
    log: Callable[[str], None] = print
    # Called with the variants shown so far after each batch: a long run keeps what it has.
    progress: Callable[[list[Shown]], None] = lambda shown: None
    extra: dict[str, Any] = field(default_factory=dict)


PathFn = Callable[[Sequence[Job], Context], list[Shown]]
PATHS: dict[str, PathFn] = {}


def register_path(name: str) -> Callable[[PathFn], PathFn]:
    def add(fn: PathFn) -> PathFn:
        PATHS[name] = fn
        return fn
    return add


@register_path("current")
def current_path(jobs: Sequence[Job], ctx: Context) -> list[Shown]:
    from django.test import override_settings

    from copywriter.ml.engine import get_engine

    ws = ctx.membership.workspace
    queue = f"eval-quality-{ws.pk}"
    random.seed(ctx.seed)  # generation_create draws each job's sampling seed from it
    by_pk: dict[int, Job] = {}
    shown: list[Shown] = []
    started = time.monotonic()

    def stored(pks: list[int]) -> None:
        for gen in Generation.objects.filter(pk__in=pks):
            job = by_pk[gen.pk]
            variants = {v.index: v for v in gen.results.all()}
            for i in range(gen.variants):
                v = variants.get(i)
                shown.append(Shown(
                    brief_id=job.brief["id"], tone=job.tone, index=i,
                    text=v.text if v and gen.status == Status.DONE else "",
                    # every attempt's tokens (rewrites included), shared by the variants
                    tokens=round(gen.timings.get("tokens", 0) / gen.variants), seconds=0.0,
                    prompt=gen.prompt, finish_reason=v.finish_reason if v else "",
                    originality=(v.originality or {}).get("verdict") if v else None,
                    error="" if gen.status == Status.DONE else f"{gen.status}: {gen.error}",
                    choice=v.choice if v else None))
        ctx.log(f"  current: {len({s.brief_id + s.tone for s in shown})}/{len(by_pk)} generations "
                f"after {time.monotonic() - started:.0f} s")
        ctx.progress(shown)

    # The API's defaults: medium length; the per-minute limit is for people, as for bulk runs.
    # The jobs go to a private queue (no worker picks them up, no user's job joins them) and
    # through the worker's own path in this process: scheduler, engine session, review, storing.
    with override_settings(GENERATION_QUEUE=queue):
        for job in jobs:
            gen = generation_create(membership=ctx.membership,
                                    template=ctx.templates[job.brief["template"]],
                                    fields=dict(job.brief["fields"]), tone=job.tone,
                                    variants=job.variants, length="medium",
                                    per_minute_limit=False, enqueue_job=False)
            by_pk[gen.pk] = job
        started = time.monotonic()
        run_queued(engine=ctx.engine or get_engine(), on_store=stored)
    per_variant = (time.monotonic() - started) / max(1, len(shown))
    for item in shown:  # rows share the batch: the run's time, shared by what it showed
        item.seconds = per_variant
    return shown


def _variant_path(*, slots: bool, candidates: int, claims_policy: str = "") -> PathFn:
    """The worker path with slot writing on or off, a workspace's best of N and its claims
    policy ("": the default a new workspace gets): how the eval compares today's
    single-sequence, single-sample writing with what replaces it."""
    def run(jobs: Sequence[Job], ctx: Context) -> list[Shown]:
        from django.test import override_settings

        ws = Workspace.objects.get(pk=ctx.membership.workspace_id)
        before = (ws.candidates, ws.claims_policy)
        ws.candidates = candidates
        ws.claims_policy = claims_policy or Workspace._meta.get_field("claims_policy").default
        ws.save(update_fields=["candidates", "claims_policy"])
        try:
            with override_settings(GENERATION_SLOTS=slots):
                return current_path(jobs, ctx)
        finally:
            ws.candidates, ws.claims_policy = before
            ws.save(update_fields=["candidates", "claims_policy"])
    return run


# Today's path before output slots, best of N and the claims policies: every template one
# sequence, one sample, claims only marked.
register_path("single")(_variant_path(slots=False, candidates=1, claims_policy="flag"))
# Slot templates item by item, one candidate per variant (per item) and resampling.
register_path("slots")(_variant_path(slots=True, candidates=1))
# ... and the best of 3 candidates per variant (per item).
register_path("best3")(_variant_path(slots=True, candidates=3))


def interleave(items: Sequence[Any], *, key: Callable[[Any], str]) -> list[Any]:
    """Items of each group spread evenly through the list, keeping their order within a group:
    16 slot and 8 long-form briefs come as slot, slot, long, slot, slot, long, ..."""
    groups: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        groups[key(item)].append(item)
    placed = sorted(((i + 0.5) / len(g), n, item) for n, g in enumerate(groups.values())
                    for i, item in enumerate(g))
    return [item for _, _, item in placed]


# --- scoring ---------------------------------------------------------------------------------

METRICS = (
    ("format_ok", "passes every format rule"),
    ("invented_number", "states a number not in the brief"),
    ("unsupported_claim", "makes a claim the brief does not support"),
    ("names_product", "names the product"),
    ("facts", "carries the brief's facts"),
    ("keyword", "uses the target keyword"),
    ("echoed", "repeats the prompt's instructions"),
    ("placeholder", "leaves a placeholder"),
)


def score(row: Mapping[str, Any]) -> dict[str, Any]:
    """One variant's checks as the figures the table averages (None: does not apply)."""
    c = row["checks"]
    facts = c["facts"]
    # runs saved before the claims metric have no "unsupported_claims" (None: not measured)
    claims = c.get("unsupported_claims")
    return {"format_ok": c["format_ok"], "invented_number": bool(c["invented_numbers"]),
            "unsupported_claim": None if claims is None else bool(claims),
            "names_product": c["names_product"],
            "facts": (sum(facts) / len(facts)) if facts else None,
            "keyword": c["keyword"], "echoed": bool(c["echoed"]),
            "placeholder": bool(c["placeholders"])}


def summarise(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    rows = list(rows)
    out: dict[str, Any] = {"variants": len(rows),
                           "failed": sum(1 for r in rows if r.get("error"))}
    scored = [score(r) for r in rows if not r.get("error")]
    for key, _ in METRICS:
        vals = [float(s[key]) for s in scored if s[key] is not None]
        out[key] = round(statistics.fmean(vals), 3) if vals else None
        out[f"{key}_n"] = len(vals)
    gsa = [r for r in rows if r["template"] == "google-search-ad" and not r.get("error")]
    out["google_search_ad_ok"] = f"{sum(1 for r in gsa if r['checks']['format_ok'])} of {len(gsa)}"
    out["tokens_per_variant"] = round(statistics.fmean([r["tokens"] for r in rows]), 1) if rows else None
    out["seconds_per_variant"] = round(statistics.fmean([r["seconds"] for r in rows]), 2) if rows else None
    return out


def checked_rows(shown: Sequence[Shown], *, path: str, briefs: Mapping[str, Mapping[str, Any]],
                 rules: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for s in shown:
        brief = briefs[s.brief_id]
        tpl_rules = rules.get(brief["template"])
        checks: VariantChecks = check_variant(s.text, brief=brief, prompt=s.prompt, rules=tpl_rules)
        rows.append({"path": path, "brief": s.brief_id, "template": brief["template"],
                     "kind": template_kind(tpl_rules), "tone": s.tone, "index": s.index,
                     "text": s.text, "tokens": s.tokens, "seconds": round(s.seconds, 3),
                     "finish_reason": s.finish_reason, "originality": s.originality,
                     "error": s.error, "choice": s.choice, "checks": checks.as_dict(),
                     "facts_missing": [f["fact"] for f, ok in zip(brief.get("facts") or [],
                                                                 checks.facts, strict=True) if not ok]})
    return rows


def rescore(rows: Sequence[Mapping[str, Any]], *, briefs: Mapping[str, Mapping[str, Any]],
            rules: Mapping[str, Any], prompts: Mapping[str, str]) -> list[dict[str, Any]]:
    """Run the checks again on saved texts (after a check changed), without generating."""
    shown = [Shown(brief_id=r["brief"], tone=r["tone"], index=r["index"], text=r["text"],
                   tokens=r["tokens"], seconds=r["seconds"], prompt=prompts[r["brief"]],
                   finish_reason=r.get("finish_reason", ""), originality=r.get("originality"),
                   error=r.get("error", ""), choice=r.get("choice")) for r in rows]
    out: list[dict[str, Any]] = []
    for path in dict.fromkeys(r["path"] for r in rows):
        mine = [s for s, r in zip(shown, rows, strict=True) if r["path"] == path]
        out += checked_rows(mine, path=path, briefs=briefs, rules=rules)
    return out


def summary_table(rows: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """path -> kind ("slot", "long", "all") -> figures."""
    table: dict[str, dict[str, Any]] = {}
    for path in dict.fromkeys(r["path"] for r in rows):
        mine = [r for r in rows if r["path"] == path]
        table[path] = {"all": summarise(mine)}
        for kind in ("slot", "long"):
            table[path][kind] = summarise([r for r in mine if r["kind"] == kind])
    return table


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"


def markdown(table: Mapping[str, Mapping[str, Any]]) -> str:
    head = ["path", "kind", "variants"] + [label for _, label in METRICS] + [
        "Google search ad: every rule", "tokens / shown variant", "seconds / shown variant"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for path, kinds in table.items():
        for kind in ("slot", "long", "all"):
            s = kinds[kind]
            cells = [path, kind, f"{s['variants']}" + (f" ({s['failed']} failed)" if s["failed"] else "")]
            cells += [_pct(s[key]) for key, _ in METRICS]
            cells += [s["google_search_ad_ok"], str(s["tokens_per_variant"]),
                      str(s["seconds_per_variant"])]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def rules_by_template(templates: Mapping[str, Any], formats: Mapping[str, Any]) -> dict[str, Any]:
    """Each template's rules: its stored version's ``output.slots`` when it has them, else the
    formats.yaml entry."""
    out = {}
    for slug, tpl in templates.items():
        data = (tpl.current.data if getattr(tpl, "current", None) is not None else {}) or {}
        out[slug] = rules_for(slug, formats=formats, template_output=data.get("output"))
    return out
