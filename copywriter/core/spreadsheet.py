"""Spreadsheet formula injection (CSV injection): a cell that starts with = + - @ (or a tab or a
carriage return) is read as a formula by Excel and LibreOffice. OWASP's advice: prefix it with an
apostrophe, so it shows as text. Every CSV the app writes passes its cells through here."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def escape_formula(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_START) else value
