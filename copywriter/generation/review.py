"""Review stages: checks a written variant passes through before anyone sees it.

The interface lives here, beside the rows it reviews, so that the apps that own a check
(originality today; claims and house style next) implement it without importing the worker
pipeline above them, which runs the stages (``copywriter/pipeline/worker.py``).

A stage looks at drafts (the variants that finished writing at this step), says for each
whether to keep it or write it again, and gives a report that is stored with the variant. The
pipeline keeps every attempt's verdict and, when a variant is out of rewrites, stores the best
one (lowest ``rank``) with its report; nothing is dropped or shown silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class Draft:
    key: tuple[int, int]  # (generation id, variant index)
    generation: Any  # copywriter.generation.models.Generation
    text: str
    tokens: int
    finish_reason: str
    attempt: int = 0  # 0: first writing; n: the n-th rewrite


@dataclass
class Verdict:
    report: dict[str, Any] | None  # stored with the variant (None: the stage did not run)
    rewrite: bool = False  # write this variant again, if the stage allows another attempt
    rank: tuple[float, ...] = ()  # lower is better: which attempt to keep
    timings: dict[str, float] = field(default_factory=dict)


class Stage(Protocol):
    name: str  # the report's key on the variant, e.g. "originality"

    def max_rewrites(self, generation: Any) -> int:
        """Rewrites this stage may ask for, per variant (a workspace setting)."""

    def review(self, drafts: list[Draft]) -> list[Verdict]:
        """One verdict per draft, in order. Must not raise for a check that failed: it returns
        a report saying the text was not checked, and why."""

    def final_report(self, kept: Verdict, attempts: list[Verdict]) -> dict[str, Any] | None:
        """The report stored with the kept attempt (e.g. how many rewrites there were)."""

    def finished(self, generation_ids: list[int]) -> None:
        """After the variants are stored (e.g. index them for later checks); never raises."""
