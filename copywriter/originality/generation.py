"""The originality step of the generation runner (worker side).

``review_batch`` runs after the engine wrote a batch and before the variants are stored as
done: each variant is checked against its workspace's documents, earlier generations and
reference texts; a flagged one is written again with new seeds, in one extra batch per round,
at most ``max_regenerations`` rounds; what is still flagged after that is stored with its flag
and evidence (the report), never dropped or shown silently. ``index_finished`` then indexes the
stored variants for later checks.

A failure here never fails the generation: the variant is stored with a report that says it
was not checked, and why.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from copywriter.originality import text as T
from copywriter.originality.models import OriginalitySettings, Regenerate

log = logging.getLogger(__name__)
SEED_STEP = 7919  # a regeneration round's seeds: far from the ones the user's batch used


@dataclass
class Review:
    results: list[Any]
    reports: dict[Any, dict[str, Any]] = field(default_factory=dict)
    timings: dict[str, Any] = field(default_factory=dict)


def _settings(batch: list[Any]) -> dict[int, OriginalitySettings]:
    ws = {g.workspace_id for g in batch}
    rows = {s.workspace_id: s for s in OriginalitySettings.objects.filter(workspace_id__in=ws)}
    return {w: rows.get(w) or OriginalitySettings(workspace_id=w) for w in ws}


def _wants_retry(report: dict[str, Any], setting: OriginalitySettings) -> bool:
    verdict = report.get("verdict")
    if setting.regenerate == Regenerate.OFF or verdict not in T.FLAGS:
        return False  # original, or a note (one sentence like a source): never worth a rewrite
    return setting.regenerate == Regenerate.ANY or verdict == T.COPY


def _better(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Is report ``a`` better than ``b``: a milder verdict, then less text taken over verbatim,
    then a lower similarity."""
    return ((T.SEVERITY[a["verdict"]], a["overlap"], a.get("coverage", 0.0), a["score"])
            < (T.SEVERITY[b["verdict"]], b["overlap"], b.get("coverage", 0.0), b["score"]))


def _summary(report: dict[str, Any], text: str) -> dict[str, Any]:
    return {"verdict": report["verdict"], "score": report["score"], "overlap": report["overlap"],
            "coverage": report.get("coverage", 0.0), "chars": len(text)}


def review_batch(batch: list[Any], requests: list[Any], results: list[Any], *, engine: Any,
                 on_progress: Callable[[list[Any]], None] | None = None) -> Review:
    from copywriter.generation.models import Generation, Status
    from copywriter.originality import search

    started = time.monotonic()
    review = Review(results=list(results))
    gens = {g.pk: g for g in batch}
    try:
        settings = _settings(batch)
        checked = [r for r in results if r.key[0] in gens
                   and settings[gens[r.key[0]].workspace_id].check_generations]
        runs = search.bulk_runs_of(set(gens))
        # What each text was written from: its own earlier drafts of this brief and its sibling
        # rows of a bulk run only count when they are near-verbatim duplicates.
        briefs = {pk: search.Brief(g.template_id, g.fields, runs.get(pk)) for pk, g in gens.items()}

        def check(rows: list[Any]) -> list[dict[str, Any]]:
            items = [search.CheckItem(gens[r.key[0]].workspace_id, r.text,
                                      search.Exclude(generation_id=r.key[0]),
                                      settings[gens[r.key[0]].workspace_id].thresholds,
                                      given="\n".join(str(v) for v in gens[r.key[0]].fields.values()),
                                      brief=briefs[r.key[0]])
                     for r in rows]
            return search.check_texts(items)

        best: dict[Any, tuple[Any, dict[str, Any]]] = {}
        history: dict[Any, list[dict[str, Any]]] = {}
        for r, report in zip(checked, check(checked), strict=True):
            best[r.key] = (r, report)
            history[r.key] = [_summary(report, r.text)]
        by_key = {req.key: req for req in requests}
        rounds, regen_error = 0, ""
        limit = max((s.max_regenerations for s in settings.values()), default=0)
        for round_no in range(1, limit + 1):
            todo = [key for key, (_, rep) in best.items()
                    if _wants_retry(rep, settings[gens[key[0]].workspace_id])
                    and len(history[key]) <= settings[gens[key[0]].workspace_id].max_regenerations]
            if todo:  # a job cancelled meanwhile gets no rewrite
                live = set(Generation.objects.filter(pk__in={k[0] for k in todo}, status=Status.RUNNING)
                           .values_list("pk", flat=True))
                todo = [key for key in todo if key[0] in live]
            if not todo:
                break
            again = [dataclasses.replace(by_key[key], seed=(by_key[key].seed or 0) + SEED_STEP * round_no)
                     for key in todo]
            current = {k: v[0] for k, v in best.items()}

            def progress(partial: list[Any], current: dict[Any, Any] = current) -> None:
                # Stream the rewrite into the page and keep every row's lease alive.
                if on_progress is not None:
                    by = {p.key: p for p in partial}
                    on_progress([by.get(r.key, current.get(r.key, r)) for r in review.results])

            try:
                fresh = engine.generate(again, on_progress=progress)
                fresh_reports = check(fresh)
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:  # keep what was checked; say the rewrite failed
                log.exception("regenerating flagged variants failed")
                regen_error = f"Writing a new version failed ({exc.__class__.__name__})."
                break
            rounds = round_no
            for r, report in zip(fresh, fresh_reports, strict=True):
                history[r.key].append(_summary(report, r.text))
                if _better(report, best[r.key][1]):
                    best[r.key] = (r, report)
        for key, (_, report) in best.items():
            report["regenerated"] = len(history[key]) - 1
            report["attempts"] = history[key]
            if regen_error and report["verdict"] != T.ORIGINAL:
                report["note"] = regen_error
            review.reports[key] = report
        for r in results:
            if r.key[0] in gens and r.key not in review.reports:
                review.reports[r.key] = {"version": 1, "verdict": None,
                                         "note": "Originality checks are turned off for this workspace."}
        chosen = {key: r for key, (r, _) in best.items()}
        review.results = [chosen.get(r.key, r) for r in results]
        review.timings = {"originality_seconds": round(time.monotonic() - started, 2),
                          "originality_rounds": rounds}
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:
        log.exception("originality check of a batch failed")
        note = f"The originality check failed ({exc.__class__.__name__}); the text was not checked."
        review.results = list(results)
        review.reports = {r.key: {"version": 1, "verdict": None, "error": note} for r in results
                          if r.key[0] in gens}
        review.timings = {"originality_seconds": round(time.monotonic() - started, 2),
                          "originality_error": str(exc)[:200]}
    return review


def index_finished(generation_ids: list[int]) -> None:
    """Index the stored variants of the generations that finished, for later checks."""
    from copywriter.generation.models import Generation, Status
    from copywriter.originality import indexing

    for pk in Generation.objects.filter(pk__in=generation_ids, status=Status.DONE).values_list(
            "pk", flat=True):
        try:
            indexing.index_generation(pk)
        except SoftTimeLimitExceeded:
            raise
        except Exception:
            log.exception("indexing generation %s failed", pk)
