"""No regular expression in copywriter/ backtracks super-linearly (issue 18, item 2).

Every pattern written as a literal in a ``re.*`` call is collected from the source (so a new one
is checked without anyone listing it) and run over hostile strings built from the characters
that make backtracking patterns blow up: long runs of spaces, newlines, '#', '<', dashes,
quotes, and mixes of them, with a character at the end that makes the match fail. A cubic
pattern shows at 1,000 characters, a quadratic one at 50,000 (at 20,000 the old heading pattern
took only 0.39 s on a quiet machine, under the 0.5 s bar: a fast machine hid it).
"""

from __future__ import annotations

import ast
import itertools
import re
import time
from pathlib import Path

import copywriter
from tests.support.report import report

ROOT = Path(copywriter.__file__).parent
CALLS = {"compile", "search", "match", "fullmatch", "sub", "subn", "split", "findall", "finditer"}
UNITS = [" ", "\t", "\n", "\n ", " \n", "#", "# ", "#\n", "<", "<h1>", "<a", "<!--", "</",
         "<p", "a", "a ", "a'", "-", "- ", "---\n", "\n-", ".", ". ", ".\"", "'", "*", "_",
         "1.", "\u2019", "\u2026 ", "# a ", "a\u00a0"]
ENDINGS = ["", "!"]
PREFIXES = ["", "# a", "<h1>x"]
# Patterns only ever tried at one position (``.match`` after the caller skipped whitespace), where
# they are linear; scanning a whole text with them is not how they are used.
MATCH_ONLY = {
    r"\s*(?:[-*\u2022\u2013\u2014>#]+|\d+[.)])\s+",  # originality/text.py _BULLET, in _trim()
}
# Files whose super-linear patterns were reported to their authors rather than edited; remove an
# entry when they are fixed. (copywriter/quality/checks.py was here: its number reader moved to
# copywriter/claims/check.py with linear patterns, and its section-label pattern went.)
REPORTED: set[str] = set()


def _patterns() -> list[tuple[str, int, str]]:
    """(pattern, flags, where) for each literal pattern in copywriter/ (migrations aside)."""
    found = []
    for path in sorted(ROOT.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
                    and node.func.attr in CALLS and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                continue
            flags = 0
            for sub in ast.walk(node):
                if (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
                        and sub.value.id == "re" and sub.attr.isupper()):
                    flags |= getattr(re, sub.attr)
            found.append((node.args[0].value, flags,
                          f"{path.relative_to(ROOT.parent)}:{node.lineno}"))
    return found


def _worst(rx: re.Pattern[str], n: int, limit: float = 1.0) -> tuple[float, str]:
    """The longest scan over the hostile strings of ``n`` characters (stops past ``limit``)."""
    worst, which = 0.0, ""
    for unit, ending, prefix in itertools.product(UNITS, ENDINGS, PREFIXES):
        text = prefix + unit * (n // len(unit)) + ending
        start = time.perf_counter()
        if rx.pattern in MATCH_ONLY:
            rx.match(text)
        else:
            for _ in rx.finditer(text):
                pass
        took = time.perf_counter() - start
        if took > worst:
            worst, which = took, f"{prefix!r} + {unit!r} * {n // len(unit)} + {ending!r}"
        if worst > limit:
            return worst, which
    return worst, which


def test_no_pattern_in_the_code_base_backtracks_super_linearly():
    patterns = _patterns()
    assert len(patterns) >= 20, patterns  # the collector works
    slow = []
    for pattern, flags, where in patterns:
        if where.split(":")[0] in REPORTED:
            continue
        rx = re.compile(pattern, flags)
        limit = 0.05
        worst, which = _worst(rx, 1_000, limit)  # cubic shows here, in seconds, not hours
        if worst <= limit:
            limit = 0.5  # linear: a few milliseconds; quadratic: seconds
            worst, which = _worst(rx, 50_000, limit)
        if worst > limit:
            slow.append(f"{where} {pattern!r}: {worst:.2f} s on {which}")
    report(f"regex costs: {len(patterns)} patterns in copywriter/ x {len(UNITS) * len(ENDINGS) * len(PREFIXES)} "
           f"hostile strings, none super-linear ({len(REPORTED)} in another's file reported)")
    assert not slow, "\n".join(slow)


def test_the_check_catches_the_patterns_seo_analysis_used_before():
    worst, _ = _worst(re.compile(r"^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$", re.M), 1_000, 0.05)
    assert worst > 0.05
    worst, _ = _worst(re.compile(r"<h([1-6])[^>]*>(.*?)</h\1\s*>", re.I | re.S), 50_000, 0.5)
    assert worst > 0.5
