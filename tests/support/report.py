"""Figures the run should show (counts of what was covered), printed in the terminal summary by
tests/conftest.py."""

from __future__ import annotations

from collections.abc import Callable

LINES: list[str] = []
AT_END: list[Callable[[], str | None]] = []


def report(line: str) -> None:
    """A figure known when a test finishes."""
    LINES.append(line)


def report_at_end(line: Callable[[], str | None]) -> None:
    """A figure known only once every test ran (a count over a parametrized test's cases): the
    summary calls ``line`` and prints what it returns, unless None."""
    AT_END.append(line)


def summary() -> list[str]:
    return LINES + [text for text in (line() for line in AT_END) if text]
