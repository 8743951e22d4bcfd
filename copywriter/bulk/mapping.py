"""Which file column feeds which template field, and whether a row can run.

Pure: plain values in, plain values out, no Django models, so the upload form, the command line
and the run share one reading of a file.
"""

from __future__ import annotations

from typing import Any

from copywriter.bulk.errors import BulkError
from copywriter.bulk.parsing import normalise
from copywriter.catalog.schema import Field, PromptTemplate


def auto_mapping(*, spec: PromptTemplate, header: list[str]) -> dict[str, int]:
    """Map each template field to the column with the same normalised name (or label)."""
    by_name: dict[str, int] = {}
    for i, column in enumerate(header):
        by_name.setdefault(normalise(column), i)
    mapping = {}
    for f in spec.fields:
        for candidate in (f.name, f.label):
            if normalise(candidate) in by_name:
                mapping[f.name] = by_name[normalise(candidate)]
                break
    return mapping


def clean_mapping(*, spec: PromptTemplate, header: list[str], raw: dict[str, Any]) -> dict[str, int]:
    """A mapping as posted (field -> column index as text, "" for none) checked against the file."""
    mapping = {}
    for f in spec.fields:
        value = raw.get(f.name)
        if value in (None, ""):
            continue
        try:
            index = int(value)
        except (TypeError, ValueError) as exc:
            raise BulkError(f"Choose a column for {f.label} from the list.") from exc
        if not 0 <= index < len(header):
            raise BulkError(f"Choose a column for {f.label} from the list.")
        mapping[f.name] = index
    return mapping


def missing_required(*, spec: PromptTemplate, mapping: dict[str, int]) -> list[Field]:
    return [f for f in spec.fields if f.required and f.name not in mapping]


def row_fields(*, spec: PromptTemplate, mapping: dict[str, int], values: list[str]) -> dict[str, str]:
    return {f.name: (values[mapping[f.name]].strip() if mapping.get(f.name) is not None
                     and mapping[f.name] < len(values) else "") for f in spec.fields}


def row_problem(*, spec: PromptTemplate, width: int, values: list[str],
                fields: dict[str, str]) -> str:
    """Why a row cannot run, or "" when it can."""
    if not any(v.strip() for v in values):
        return "Empty row."
    if len(values) > width and any(v.strip() for v in values[width:]):
        return (f"The row has {len(values)} cells but the header names {width} columns; a value "
                "probably contains an unquoted separator.")
    errors = spec.validate_values(fields)
    return " ".join(errors[f.name] for f in spec.fields if f.name in errors)

