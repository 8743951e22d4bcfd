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


def read_table(data: bytes, *, filename: str, max_rows: int, max_bytes: int,
               max_columns: int = 100) -> Table:
    """Every limit is checked while reading, before anything grows with what the file declares:
    at most ``max_rows + 1`` data rows and ``max_columns`` columns are ever built."""
    if len(data) > max_bytes:
        raise FileProblem(f"The file is {_size(len(data))}; the limit is {_size(max_bytes)}. "
                          "Split it into smaller files.")
    if not data.strip():
        raise FileProblem("The file is empty.")
    if data.startswith(OLE_MAGIC):
        raise FileProblem("This is an old Excel .xls file. Save it as .xlsx or CSV and upload "
                          "that.")
    if data.startswith(ZIP_MAGIC) or filename.lower().endswith(".xlsx"):
        table = _read_xlsx(data, max_rows=max_rows, max_columns=max_columns, max_bytes=max_bytes)
    else:
        table = _read_csv(data, max_rows=max_rows, max_columns=max_columns)
    rows = _drop_trailing_empty(table.rows)
    if not table.header or not any(h.strip() for h in table.header):
        raise FileProblem("The first row must name the columns; it is empty.")
    if len(rows) > max_rows:
        raise _too_many_rows(len(rows), max_rows)
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


def _too_many_rows(rows: int, max_rows: int) -> FileProblem:
    return FileProblem(f"The file has {rows:,} rows; the limit is {max_rows:,}. Split it into "
                       "files of at most that many rows.")


def _too_many_columns(where: str, columns: int, max_columns: int) -> FileProblem:
    return FileProblem(f"{where} has {columns:,} columns; the limit is {max_columns:,}. Remove "
                       "the columns the template does not need.")


def _trim(record: list[str]) -> list[str]:
    end = len(record)
    while end and not record[end - 1].strip():
        end -= 1
    return record[:end]


def sniff_delimiter(sample: str) -> str:
    """The separator that splits the first lines into the most columns, most consistently.

    Not ``csv.Sniffer``: its regular expressions take seconds of CPU on a crafted sample
    (SECURITY.md).
    This reads at most 8 kB and 20 records with the C csv reader, once per candidate."""
    sample = sample[:8192]
    if "\n" in sample[:-1]:
        sample = sample[:sample.rindex("\n", 0, len(sample) - 1) + 1]  # whole lines only
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        try:
            records = [r for _, r in zip(range(20), csv.reader(io.StringIO(sample, newline=""),
                                                                delimiter=delimiter), strict=False)
                       if r]
        except csv.Error:
            continue
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        score = (sum(len(r) == width for r in records), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


class _Lines:
    """Lines for ``csv.reader`` that refuse a record with too many separators before the reader
    builds it: a 5 MB line of "ab," would otherwise be 1.6 million strings in memory."""

    def __init__(self, text: str, delimiter: str, limit: int, max_columns: int):
        self.lines = iter(io.StringIO(text, newline=""))
        self.delimiter, self.limit, self.max_columns = delimiter, limit, max_columns
        self.separators = 0

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = next(self.lines)
        self.separators += line.count(self.delimiter)
        if self.separators > self.limit:
            raise _too_many_columns("A row", self.separators + 1, self.max_columns)
        return line


def _read_csv(data: bytes, *, max_rows: int = 10**9, max_columns: int = 100) -> Table:
    text, notes = decode(data)
    delimiter = sniff_delimiter(text)
    # Quoted cells may hold separators, so the guard on raw separators is looser than the
    # column limit; the parsed records are held to the limit itself.
    lines = _Lines(text, delimiter, max(1000, 10 * max_columns), max_columns)
    header: list[str] | None = None
    rows: list[list[str]] = []
    blanks: list[list[str]] = []  # blank records kept only if a filled one follows
    counted = extra_blanks = records = 0  # rows past the limit are counted, not kept
    try:
        for record in csv.reader(lines, delimiter=delimiter):
            lines.separators = 0
            if len(record) > max_columns:
                record = _trim(record)
                if len(record) > max_columns:
                    where = "The header row" if header is None else f"Row {len(rows) + 1}"
                    raise _too_many_columns(where, len(record), max_columns)
            records += 1
            if records > 20 * max_rows + 1:  # blank lines too: each costs a loop here
                raise FileProblem(f"The file has more than {20 * max_rows:,} lines, blank ones "
                                  f"included; the limit is {max_rows:,} rows. Remove the empty "
                                  "lines or split the file.")
            if header is None:
                header = record
            elif not any(c.strip() for c in record):
                if len(blanks) <= max_rows:
                    blanks.append(record)
                else:
                    extra_blanks += 1
            else:
                rows.extend(blanks)
                counted += extra_blanks
                blanks, extra_blanks = [], 0
                if len(rows) < max_rows:
                    rows.append(record)
                else:
                    counted += 1
    except csv.Error as exc:
        raise FileProblem(f"The CSV could not be read: {exc}. Check the quotes in the file.") \
            from exc
    if len(rows) + counted > max_rows:
        raise _too_many_rows(len(rows) + counted, max_rows)
    if delimiter != ",":
        name = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}[delimiter]
        notes.append(f"Columns are separated by {name}.")
    if header is None:
        raise FileProblem("The file is empty.")
    return Table(header=[c.strip() for c in header], rows=rows, file_format="csv", notes=notes)


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


def _read_xlsx(data: bytes, *, max_rows: int = 10**9, max_columns: int = 100,
               max_bytes: int = 5_000_000) -> Table:
    from openpyxl import load_workbook

    try:
        expanded = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileProblem("This is not a readable XLSX file. Save it again from your spreadsheet "
                          "program as .xlsx or CSV.") from exc
    if expanded > 10 * max_bytes:  # a zip bomb; real workbooks compress 3-10x
        raise FileProblem(f"The workbook expands to {_size(expanded)}; the limit is "
                          f"{_size(10 * max_bytes)}. Save it as CSV and upload that.")
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
        # The declared size (<dimension ref="A1:XFD8000">) is the file's claim, not its content:
        # read-only openpyxl pads every row, present or missing, to it (SECURITY.md has what a
        # tiny file cost). Without it a row is as wide as its last cell, and no more than
        # max_rows + 1 data rows are read.
        sheet.reset_dimensions()
        header: list[str] | None = None
        named = 0
        rows: list[list[str]] = []
        for row in sheet.iter_rows(min_row=1, max_row=max_rows + 2, values_only=True):
            cells = [_cell(v) for v in row]
            width = len(_trim(cells))
            if width > max_columns:
                where = "The header row" if header is None else f"Row {len(rows) + 1}"
                raise _too_many_columns(where, width, max_columns)
            if header is None:
                header = [c.strip() for c in cells[:width]]
                named = width
            else:
                # Spreadsheets pad rows with empty cells to the widest row: trim them back to
                # the header.
                rows.append((cells + [""] * (named - len(cells)))[:max(named, width)])
    finally:
        book.close()
    if header is None:
        raise FileProblem("The first sheet of the workbook is empty.")
    if len(_drop_trailing_empty(rows)) > max_rows:
        raise FileProblem(f"The file has more than {max_rows:,} rows; the limit is "
                          f"{max_rows:,}. Split it into files of at most that many rows.")
    return Table(header=header, rows=rows, file_format="xlsx", notes=notes)


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
