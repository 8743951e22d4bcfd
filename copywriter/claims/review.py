"""The claims review stage of the worker pipeline (``copywriter/pipeline``), after originality.

Every variant that finishes writing is checked for claims that its brief and its workspace's
facts do not support (``check.check_claims``): the generation's field values, the facts and
approved claims it was given (``Generation.facts``), and the workspace's banned phrases. The
report (stored on ``Variant.claims``) lists only the unsupported claims, with their spans, so
the page can mark them.

What happens to a variant with an unsupported claim is the workspace's ``claims_policy``:
"cut" (the default): the worker has already taken the sentences that hold one out of long-form
copy (``cut.cut_unsupported``, before the stages see it), so a claim left here is one the cut
refused to take out (too little would be left): the variant is written again, once
(``MAX_CUT_REWRITES``); "flag" shows it with the claims marked; "hide" writes it again, at most
``MAX_REWRITES`` times. Under "cut" and "hide" the attempt with the fewest unsupported claims is
kept and shown flagged (``shown_flagged``) only when every attempt had one. A failure of the
check never fails the generation: the variant is stored with a report saying it was not
checked, and why.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from copywriter.claims.check import check_claims
from copywriter.generation.review import Draft, Verdict
from copywriter.workspaces.models import Workspace

log = logging.getLogger(__name__)
VERSION = 1
MAX_REWRITES = 2  # under "hide": two more attempts, then the best one is shown, flagged
MAX_CUT_REWRITES = 1  # under "cut": one more attempt where the cut was refused
REWRITES = {"hide": MAX_REWRITES, "cut": MAX_CUT_REWRITES}
NOT_CHECKED = float("inf")  # rank: an attempt that was not checked is never preferred


def _policies(workspace_ids: set[int]) -> dict[int, str]:
    rows = dict(Workspace.objects.filter(pk__in=workspace_ids).values_list("pk", "claims_policy"))
    return {w: rows.get(w) or "cut" for w in workspace_ids}


def _strings(items: Any) -> list[str]:
    """Support or banned phrases as plain strings: a fact may be stored as a string, a number,
    or an object whose values are strings ({"name": ..., "value": ...})."""
    if items is None:
        return []
    if isinstance(items, str | int | float):
        return [str(items)]
    if isinstance(items, dict):
        return [s for v in items.values() for s in _strings(v)]
    if isinstance(items, list | tuple):
        return [s for item in items for s in _strings(item)]
    return []


def support_of(generation: Any) -> tuple[list[str], list[str]]:
    """(support, banned) for a generation: its field values, its facts and approved claims;
    its banned claims."""
    facts = generation.facts if isinstance(generation.facts, dict) else {}
    support = (_strings(list((generation.fields or {}).values())) + _strings(facts.get("facts", []))
               + _strings(facts.get("approved", [])))
    return support, _strings(facts.get("banned", []))


def report_for(text: str, generation: Any, policy: str) -> dict[str, Any]:
    support, banned = support_of(generation)
    result = check_claims(text, support=support, banned=banned)
    return {"version": VERSION, "policy": policy, "checked": len(result.claims),
            "unsupported": result.unsupported,
            "claims": [{"span": [c.start, c.end], "text": c.text, "kind": c.kind, "reason": c.reason}
                       for c in result.claims if not c.supported]}


def _not_checked(exc: BaseException, policy: str = "flag") -> dict[str, Any]:
    return {"version": VERSION, "policy": policy, "checked": None, "unsupported": None,
            "claims": [],
            "error": f"The claims check failed ({exc.__class__.__name__}); the text was not checked."}


class ClaimsStage:
    name = "claims"

    def max_rewrites(self, generation: Any) -> int:
        return REWRITES.get(_policies({generation.workspace_id})[generation.workspace_id], 0)

    def review(self, drafts: list[Draft]) -> list[Verdict]:
        """One verdict per draft. SoftTimeLimitExceeded goes on up: it is the worker's time
        limit, not a failure of the check; anything else gives a not-checked report."""
        try:
            policies = _policies({d.generation.workspace_id for d in drafts})
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            log.exception("the claims check could not read the workspaces' policies")
            return [Verdict(report=_not_checked(exc), rank=(NOT_CHECKED,)) for _ in drafts]
        verdicts = []
        for d in drafts:
            policy = policies[d.generation.workspace_id]
            try:
                report = report_for(d.text, d.generation, policy)
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:
                log.exception("the claims check of generation %s variant %s failed", *d.key)
                verdicts.append(Verdict(report=_not_checked(exc, policy), rank=(NOT_CHECKED,)))
                continue
            verdicts.append(Verdict(report=report, rank=(float(report["unsupported"]),),
                                    rewrite=policy in REWRITES and report["unsupported"] > 0))
        return verdicts

    def final_report(self, kept: Verdict, attempts: list[Verdict]) -> dict[str, Any] | None:
        """The kept attempt's report, with each attempt's count of unsupported claims (None: not
        checked); ``shown_flagged`` when the workspace hides such variants and every attempt
        had one."""
        report = dict(kept.report or {})
        report["attempts"] = [(a.report or {}).get("unsupported") for a in attempts]
        if report.get("policy") in REWRITES and report.get("unsupported"):
            report["shown_flagged"] = True
        return report

    def finished(self, generation_ids: list[int]) -> None:
        """Nothing to do after storing: the report is on the variant."""
