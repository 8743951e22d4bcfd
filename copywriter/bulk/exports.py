"""Downloads: the original columns, verbatim, plus the generated text and its verdict.

Spreadsheet formula injection: a CSV cell that starts with = + - @ (or a tab or carriage return)
is prefixed with an apostrophe, as OWASP advises, so Excel and LibreOffice show it as text. In
XLSX a cell is typed: every value is written as a string cell, never a formula, so it needs no
prefix and keeps its exact text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from copywriter.bulk.models import BulkRun
from copywriter.core.spreadsheet import escape_formula

GENERATED = ["generated_text", "row_status", "row_problem", "originality_verdict",
             "originality_score", "edited"]


def table(run: BulkRun) -> Iterator[list[str]]:
    width = len(run.header)
    yield [*run.header, *GENERATED]
    for row in run.rows.order_by("index").iterator(chunk_size=500):
        cells = list(row.values[:width]) + [""] * (width - len(row.values))
        report = row.originality or {}
        score = report.get("score")
        yield [*cells, row.result_text, row.status, row.error, report.get("verdict") or "",
               f"{float(score):.3f}" if score is not None else "", "yes" if row.edited else ""]


def to_csv(run: BulkRun) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    for cells in table(run):
        writer.writerow([escape_formula(c) for c in cells])
    return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel read UTF-8


def to_xlsx(run: BulkRun) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Results")
    for cells in table(run):
        row = []
        for value in cells:
            # XLSX cannot hold most control characters at all: those are dropped.
            cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"  # text, never a formula, whatever it starts with
            row.append(cell)
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
