"""Ranking the rewrites of one enrichment: which one the panel recommends.

Pure Python: no Django, no torch.
"""

from __future__ import annotations

from copywriter.seo.report import SeoReport

# Phrases of the enrichment prompt (templates_lib/seo/seo-keyword-enrich.yaml) that a small
# model sometimes copies into its answer; keywords "added" that way are not woven in.
ECHO_MARKERS = ("rewrite this marketing copy", "word for word", "write only the new version",
                "new version mentions", "the new version, mentioning")


def echoes_instructions(text: str) -> bool:
    low = " ".join(text.lower().split())
    return any(marker in low for marker in ECHO_MARKERS)


def rewrite_rank(report: SeoReport, source_words: int,
                 echoed: bool = False) -> tuple[int, float, int, float, int]:
    """Sort key for rewrites of one text (lowest first is best): does not repeat the prompt's
    instructions, covers the most keywords, is not stuffed, has the most keywords within their
    bounds, stays closest to the original length. The panel and bench/seo.py pick the same way."""
    return (int(echoed), -(report.present_share or 0.0), int(report.stuffing),
            -(report.within_bounds_share or 0.0), abs(report.words - source_words))
