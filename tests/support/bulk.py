"""Rows of a product catalogue for bulk runs, as a CSV upload."""

from __future__ import annotations

import csv
import io

HEADER = ["product", "customer", "features", "length", "sku"]
SHORT = "short (60-90 words)"


def good_row(i: int) -> list[str]:
    return [f"Trail boot {i}", "Hikers who hate wet socks", f"Waterproof leather\nSize {i}",
            SHORT, f"SKU-{i:03d}"]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",",
              encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    w = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode(encoding)
