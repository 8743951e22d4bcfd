"""Reading an uploaded table (CSV or XLSX) into a header and rows of text cells.

Everything that can be wrong with the file as a whole raises ``FileProblem`` with a message for
the person who uploaded it; problems with single rows are left to validation, so good rows
still run. No Django here: the command line and the views share it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # the old binary .xls (and .doc)
DELIMITERS = ",;\t|"


class FileProblem(ValueError):
    """The whole file cannot be used; ``message`` says why and what to do."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    file_format: str  # "csv" | "xlsx"
    notes: list[str] = field(default_factory=list)  # warnings worth showing, e.g. the encoding


def read_table(data: bytes, *, filename: str, max_rows: int, max_bytes: int) -> Table:
    if len(data) > max_bytes:
        raise FileProblem(f"The file is {_size(len(data))}; the limit is {_size(max_bytes)}. "
                          "Split it into smaller files.")
    if not data.strip():
        raise FileProblem("The file is empty.")
    if data.startswith(OLE_MAGIC):
        raise FileProblem("This is an old Excel .xls file. Save it as .xlsx or CSV and upload "
                          "that.")
    if data.startswith(ZIP_MAGIC) or filename.lower().endswith(".xlsx"):
        table = _read_xlsx(data)
    else:
        table = _read_csv(data)
    rows = _drop_trailing_empty(table.rows)
    if not table.header or not any(h.strip() for h in table.header):
        raise FileProblem("The first row must name the columns; it is empty.")
    if len(rows) > max_rows:
        raise FileProblem(f"The file has {len(rows):,} rows; the limit is {max_rows:,}. Split it "
                          "into files of at most that many rows.")
    if not rows:
        raise FileProblem("The file has a header row but no data rows.")
    table.header = _unique_names(table.header)
    table.rows = rows
    return table


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n / 1000:.0f} kB"


def decode(data: bytes) -> tuple[str, list[str]]:
    """Text of a CSV file and any warning about how it was read.

    UTF-8 (with or without BOM) and UTF-16 with a BOM are read as they are; anything else that
    is text is read as Windows-1252 (a superset of Latin-1 for printable characters, what Excel
    writes on Windows), with a warning. Binary data is refused.
    """
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), []
        except UnicodeDecodeError as exc:
            raise FileProblem("The file says it is UTF-16 but is not readable as such.") from exc
    sample = data[:65536]
    if b"\x00" in sample or _control_ratio(sample) > 0.05:
        raise FileProblem("This does not look like a CSV file (it contains binary data). Upload "
                          "a CSV or an XLSX file.")
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    try:
        text, codec = data.decode("cp1252"), "Windows-1252"
    except UnicodeDecodeError:
        text, codec = data.decode("latin-1"), "Latin-1"
    return text, [f"The file is not UTF-8; it was read as {codec}. Check that accented letters "
                  "and symbols look right in the preview, or save the file as UTF-8 CSV."]


def _control_ratio(sample: bytes) -> float:
    if not sample:
        return 0.0
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls / len(sample)


def _read_csv(data: bytes) -> Table:
    text, notes = decode(data)
    sample = text[:32768]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        dialect = csv.excel  # one column, or too irregular to tell: commas
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as exc:
        raise FileProblem(f"The CSV could not be read: {exc}. Check the quotes in the file.") \
            from exc
    if getattr(dialect, "delimiter", ",") != ",":
        name = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}.get(dialect.delimiter,
                                                                          repr(dialect.delimiter))
        notes.append(f"Columns are separated by {name}.")
    if not records:
        raise FileProblem("The file is empty.")
    return Table(header=[c.strip() for c in records[0]], rows=records[1:], file_format="csv",
                 notes=notes)


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ") if value.time() != dt.time() else value.date().isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileProblem("This is not a readable XLSX file. Save it again from your spreadsheet "
                          "program as .xlsx or CSV.") from exc
    try:
        sheet = book.worksheets[0]
        notes = []
        if len(book.worksheets) > 1:
            notes.append(f"Only the first sheet ({sheet.title}) was read.")
        records = [[_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)]
    finally:
        book.close()
    if not records:
        raise FileProblem("The first sheet of the workbook is empty.")
    header = [c.strip() for c in records[0]]
    # Spreadsheets pad rows with empty cells to the widest row: trim them back to the header.
    named = len(header) - next((i for i, h in enumerate(reversed(header)) if h), len(header))
    rows = []
    for r in records[1:]:
        end = len(r)
        while end > named and not r[end - 1]:
            end -= 1
        rows.append(r[:end])
    return Table(header=header[:named], rows=rows, file_format="xlsx", notes=notes)


def _drop_trailing_empty(rows: list[list[str]]) -> list[list[str]]:
    end = len(rows)
    while end and not any(c.strip() for c in rows[end - 1]):
        end -= 1
    return rows[:end]


def _unique_names(header: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i, name in enumerate(header, 1):
        name = name.strip() or f"Column {i}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out


def normalise(name: str) -> str:
    """Column and field names compare like this: "Product name" == "product_name"."""
    return re.sub(r"[^a-z0-9]+", "", name.lower())
