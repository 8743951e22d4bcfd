from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from copywriter.core.diff import bounded_opcodes
from copywriter.facts.models import FactSheet, FactSheetVersion


def sheets_for_workspace(*, workspace_id: int, archived: bool = False,
                         q: str = "") -> QuerySet[FactSheet]:
    qs = FactSheet.objects.filter(workspace_id=workspace_id, archived=archived)
    q = q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q))
    return qs.order_by("name", "pk")


def sheet_get(*, workspace_id: int, sheet_id: int) -> FactSheet:
    """The sheet if it belongs to the workspace (404 otherwise, also for another's ids)."""
    return get_object_or_404(FactSheet, workspace_id=workspace_id, pk=sheet_id)


def versions_of(*, sheet: FactSheet) -> QuerySet[FactSheetVersion]:
    return (FactSheetVersion.objects.filter(sheet=sheet).defer("embedding")
            .select_related("author").order_by("-number"))


def version_get(*, sheet: FactSheet, number: int) -> FactSheetVersion:
    return get_object_or_404(FactSheetVersion.objects.defer("embedding"), sheet=sheet,
                             number=number)


def head_version(*, sheet: FactSheet) -> FactSheetVersion:
    return version_get(sheet=sheet, number=sheet.head_number)


LISTS = (("facts", "Facts"), ("approved", "Approved claims"), ("banned", "Banned claims"))


def change(*, old: FactSheetVersion | None, new: FactSheetVersion) -> list[dict[str, object]]:
    """What a version changed from ``old``, per list: lines added and removed (a sheet's lines
    are short and at most FACTS_PER_SHEET a list, so a line diff is cheap)."""
    out: list[dict[str, object]] = []
    if old is not None and old.name != new.name:
        out.append({"label": "Name", "removed": [old.name], "added": [new.name]})
    for key, label in LISTS:
        a = list(getattr(old, key)) if old is not None else []
        b = list(getattr(new, key))
        opcodes, _exact = bounded_opcodes(a, b)
        removed = [line for tag, i1, i2, _, _ in opcodes if tag != "equal" for line in a[i1:i2]]
        added = [line for tag, _, _, j1, j2 in opcodes if tag != "equal" for line in b[j1:j2]]
        if removed or added:
            out.append({"label": label, "removed": removed, "added": added})
    return out
