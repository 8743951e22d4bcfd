"""A diff whose cost is bounded by the size of the change, not the size of the texts.

``difflib.SequenceMatcher`` is quadratic or worse when lines repeat: a viewer opening the diff of
``"a\\n" * 8000`` and the same plus one line held a web worker for many seconds (SECURITY.md has
the measurements). Lines (or words) the two sides share at the start and the end are matched in
one pass; only the middle that differs goes to SequenceMatcher, and only when its two sides
multiplied stay within a budget. Past it, the middle is shown as removed and added whole, and
the caller says so.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence

# Pairs of items SequenceMatcher may be given (500 x 500 lines): well under a second in the worst
# case (two periodic texts; SECURITY.md has the figure).
DIFF_BUDGET = 250_000

Opcode = tuple[str, int, int, int, int]


def bounded_opcodes(a: Sequence[str], b: Sequence[str], *,
                    budget: int = DIFF_BUDGET) -> tuple[list[Opcode], bool]:
    """``SequenceMatcher.get_opcodes()`` for ``a`` and ``b``, and whether it is exact (False:
    the changed middle was too large and is one "replace")."""
    n, m = len(a), len(b)
    head = 0
    while head < min(n, m) and a[head] == b[head]:
        head += 1
    tail = 0
    while tail < min(n, m) - head and a[n - 1 - tail] == b[m - 1 - tail]:
        tail += 1
    ops: list[Opcode] = []
    if head:
        ops.append(("equal", 0, head, 0, head))
    exact = True
    mid_a, mid_b = a[head:n - tail], b[head:m - tail]
    if mid_a or mid_b:
        if len(mid_a) * len(mid_b) <= budget:
            matcher = difflib.SequenceMatcher(None, mid_a, mid_b, autojunk=False)
            ops.extend((tag, i1 + head, i2 + head, j1 + head, j2 + head)
                       for tag, i1, i2, j1, j2 in matcher.get_opcodes())
        else:
            ops.append(("replace", head, n - tail, head, m - tail))
            exact = False
    if tail:
        ops.append(("equal", n - tail, n, m - tail, m))
    return ops, exact
