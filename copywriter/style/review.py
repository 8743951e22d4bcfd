"""The house style review stage of the worker pipeline (``copywriter/pipeline``).

Every variant that finishes writing is checked against its workspace's house style
(``services.check_text``). A variant with a banned term is written again, at most the
workspace's ``max_rewrites`` times; out of rewrites, the attempt with the fewest banned terms is
stored with a report that marks it ``shown_flagged``. Other findings are stored and shown, never
rewritten. The report is ``Variant.style``.

Ranking only by banned terms (not by every finding) lets the next stages' ranks decide between
attempts that are equally clean of them; the stage runs first so that a clean rewrite is kept
over an attempt with a banned term.

A failure of the check never fails the generation: the variant is stored with a report saying
it was not checked, and why.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from copywriter.catalog.models import Template
from copywriter.generation.review import Draft, Verdict
from copywriter.style import services

log = logging.getLogger(__name__)
VERSION = 1
NOT_CHECKED = float("inf")
MAX_STORED = 200  # findings kept in a report (a hostile text could have thousands)


def report_for(text: str, rules: services.Rules, category: str | None) -> dict[str, Any]:
    findings = services.check_text(rules, text, category=category)
    banned = sum(1 for f in findings if f.rule == "banned")
    return {"version": VERSION, "checked": True, "count": len(findings), "banned": banned,
            "fixable": sum(1 for f in findings if f.replacement is not None),
            "findings": [f.as_dict() for f in findings[:MAX_STORED]]}


def _not_checked(exc: BaseException) -> dict[str, Any]:
    return {"version": VERSION, "checked": False, "count": None, "banned": None, "findings": [],
            "error": f"The house style check failed ({exc.__class__.__name__}); the text was not "
                     "checked."}


class StyleStage:
    name = "style"

    def max_rewrites(self, generation: Any) -> int:
        rules = services.rules_for(workspace_id=generation.workspace_id)
        return rules.max_rewrites if rules.banned else 0

    def review(self, drafts: list[Draft]) -> list[Verdict]:
        try:
            rules = services.rules_of_workspaces({d.generation.workspace_id for d in drafts})
            cats = dict(Template.objects.filter(
                pk__in={d.generation.template_id for d in drafts}).values_list("pk", "category"))
        except SoftTimeLimitExceeded:
            raise
        except Exception as exc:
            log.exception("the house style check could not read the workspaces' rules")
            return [Verdict(report=_not_checked(exc), rank=(NOT_CHECKED,)) for _ in drafts]
        verdicts = []
        for d in drafts:
            try:
                report = report_for(d.text, rules[d.generation.workspace_id],
                                    cats.get(d.generation.template_id))
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:
                log.exception("the house style check of generation %s variant %s failed", *d.key)
                verdicts.append(Verdict(report=_not_checked(exc), rank=(NOT_CHECKED,)))
                continue
            verdicts.append(Verdict(report=report, rank=(float(report["banned"]),),
                                    rewrite=report["banned"] > 0))
        return verdicts

    def final_report(self, kept: Verdict, attempts: list[Verdict]) -> dict[str, Any] | None:
        """The kept attempt's report with each attempt's count of banned terms (None: not
        checked); ``shown_flagged`` when the kept one still has a banned term."""
        report = dict(kept.report or {})
        report["attempts"] = [(a.report or {}).get("banned") for a in attempts]
        report["rewritten"] = len(attempts) - 1
        if report.get("banned"):
            report["shown_flagged"] = True
        return report

    def finished(self, generation_ids: list[int]) -> None:
        """Nothing to do after storing: the report is on the variant."""
