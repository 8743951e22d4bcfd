"""The originality review stage of the worker pipeline (``copywriter/pipeline``).

Every variant that finishes writing is checked against its workspace's documents, earlier
generations and reference texts before anyone sees it (``search.check_texts``, whose decision
weighs each source by what it is: a sibling bulk row or the requester's own earlier draft of
the same brief only counts when it is a near-verbatim duplicate). A flagged variant is written
again with a new seed, as a new row of the running batch, at most ``max_regenerations`` times
(workspace setting); the pipeline keeps the best attempt (mildest verdict, then least verbatim
overlap, aligned coverage and similarity) and stores it with this stage's report, which lists
every attempt. Nothing flagged is dropped or shown silently.

A failure of the check never fails the generation: the variant is stored with a report that
says it was not checked, and why. ``finished`` indexes stored variants for later checks.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from copywriter.generation.models import Generation, Status
from copywriter.generation.review import Draft, Verdict
from copywriter.originality import search
from copywriter.originality import text as T
from copywriter.originality.models import OriginalitySettings, Regenerate

log = logging.getLogger(__name__)
TURNED_OFF = "Originality checks are turned off for this workspace."


def _settings(workspace_ids: set[int]) -> dict[int, OriginalitySettings]:
    rows = {s.workspace_id: s for s in OriginalitySettings.objects.filter(workspace_id__in=workspace_ids)}
    return {w: rows.get(w) or OriginalitySettings(workspace_id=w) for w in workspace_ids}


def wants_rewrite(report: dict[str, Any], setting: OriginalitySettings) -> bool:
    verdict = report.get("verdict")
    if setting.regenerate == Regenerate.OFF or verdict not in T.FLAGS:
        return False  # original, or a note (one sentence like a source): never worth a rewrite
    return setting.regenerate == Regenerate.ANY or verdict == T.COPY


def rank(report: dict[str, Any]) -> tuple[float, ...]:
    """Lower is better: a milder verdict, then less text taken over verbatim, then less of the
    text aligned with one source, then a lower similarity."""
    verdict = report.get("verdict")
    if verdict is None:
        return (0.0,)
    return (float(T.SEVERITY[verdict]), float(report["overlap"]), float(report.get("coverage", 0.0)),
            float(report["score"]))


class OriginalityStage:
    name = "originality"

    def max_rewrites(self, generation: Any) -> int:
        setting = _settings({generation.workspace_id})[generation.workspace_id]
        if not setting.check_generations or setting.regenerate == Regenerate.OFF:
            return 0
        return int(setting.max_regenerations)

    def review(self, drafts: list[Draft]) -> list[Verdict]:
        try:
            settings = _settings({d.generation.workspace_id for d in drafts})
            checked = [d for d in drafts if settings[d.generation.workspace_id].check_generations]
            runs = search.bulk_runs_of({d.key[0] for d in checked})
            items = [search.CheckItem(
                d.generation.workspace_id, d.text, search.Exclude(generation_id=d.key[0]),
                settings[d.generation.workspace_id].thresholds,
                given="\n".join(str(v) for v in d.generation.fields.values()),
                brief=search.Brief(d.generation.template_id, d.generation.fields, runs.get(d.key[0])))
                for d in checked]
            # By draft, not by key: a variant's best-of-N candidates share its key and attempt.
            reports = dict(zip([id(d) for d in checked],
                               search.check_texts(items) if items else [], strict=True))
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            log.exception("originality check of %d drafts failed", len(drafts))
            note = f"The originality check failed ({exc.__class__.__name__}); the text was not checked."
            return [Verdict(report={"version": 1, "verdict": None, "error": note}) for _ in drafts]
        verdicts = []
        for d in drafts:
            report = reports.get(id(d))
            if report is None:
                verdicts.append(Verdict(report={"version": 1, "verdict": None, "note": TURNED_OFF}))
                continue
            report["chars"] = len(d.text)
            verdicts.append(Verdict(report=report, rank=rank(report),
                                    rewrite=wants_rewrite(report, settings[d.generation.workspace_id])))
        return verdicts

    def final_report(self, kept: Verdict, attempts: list[Verdict]) -> dict[str, Any] | None:
        report = dict(kept.report or {})
        if report.get("verdict") is not None:
            report["regenerated"] = len(attempts) - 1
            report["attempts"] = [{key: (a.report or {}).get(key) for key in
                                   ("verdict", "score", "overlap", "coverage", "chars")}
                                  for a in attempts]
        return report

    def finished(self, generation_ids: list[int]) -> None:
        """Index the stored variants of the generations that finished, for later checks."""
        from copywriter.originality import indexing

        for pk in Generation.objects.filter(pk__in=generation_ids, status=Status.DONE).values_list(
                "pk", flat=True):
            try:
                indexing.index_generation(pk)
            except SoftTimeLimitExceeded:
                raise
            except Exception:
                log.exception("indexing generation %s failed", pk)
