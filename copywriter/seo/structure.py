"""The structure of a text: its format (plain, Markdown, HTML), its headings, the text a reader
reads and its first paragraph.

Pure Python: no Django, no torch.
"""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass

# Headings and tags are found by scanning, never by a regular expression: the patterns used
# before (``^\s{0,3}(#{1,6})\s+(.+?)\s*#*\s*$`` and ``<h([1-6])[^>]*>(.*?)</h\1>``) backtracked
# cubically on "# a" + 8,000 spaces + "b" and quadratically on unclosed tags, and any viewer
# can send text here. Every function below is one forward pass over the text.

def _md_heading(line: str) -> tuple[int, str] | None:
    """(level, text) of an ATX heading line ("## Title ##"), else None."""
    body = line.lstrip()
    if len(line) - len(body) > 3 or not body.startswith("#"):
        return None
    level = len(body) - len(body.lstrip("#"))
    rest = body[level:]
    if level > 6 or not rest or not rest[0].isspace():
        return None
    content = rest.strip()
    text = content.rstrip("#").rstrip() or content[:1]  # a closing run of # is not the title
    if not text:
        return (level, " ") if len(rest) >= 2 else None
    return level, text


def md_headings(text: str) -> list[tuple[int, str]]:
    return [h for line in text.split("\n") if (h := _md_heading(line)) is not None]


def _md_list_item(line: str) -> bool:
    body = line.lstrip()
    return len(body) > 2 and body[0] in "-*" and body[1].isspace() and bool(body[2:].strip())


@dataclass
class _Html:
    body: str  # the text with tags replaced by spaces, blocks by blank lines
    headings: list[str]  # text of each closed <h1>..<h6>
    first_paragraph: str | None  # text of the first closed <p>


_BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "div"}


def _html_tokens(text: str) -> list[tuple[str, str, str]]:
    """(kind, tag name, text) for each piece: "text", "start", "end" or "other" (comments,
    doctypes). Follows the HTML tokenizer's rules for where a tag or comment ends, in one pass:
    a search that finds no end stops the scan, so no character is looked at twice (the standard
    library's html.parser is quadratic on unclosed "<!--" or "<a": SECURITY.md has the figure)."""
    out: list[tuple[str, str, str]] = []
    i, n = 0, len(text)
    while i < n:
        lt = text.find("<", i)
        if lt < 0:
            out.append(("text", "", text[i:]))
            break
        if lt > i:
            out.append(("text", "", text[i:lt]))
        nxt = text[lt + 1:lt + 2]
        closing = nxt == "/" and text[lt + 2:lt + 3].isascii() and text[lt + 2:lt + 3].isalpha()
        if (nxt.isascii() and nxt.isalpha()) or closing:
            gt = text.find(">", lt)
            if gt < 0:  # a tag left open runs to the end: what follows is not text
                break
            raw = text[lt + (2 if closing else 1):gt]
            name = raw.split(None, 1)[0].split("/", 1)[0].lower() if raw.strip() else ""
            out.append(("end" if closing else "start", name, ""))
            i = gt + 1
        elif text.startswith("<!--", lt):
            close = text.find("-->", lt + 4)
            if close < 0:
                break
            out.append(("other", "", ""))
            i = close + 3
        elif nxt in ("!", "?") or (nxt == "/" and text[lt + 2:lt + 3]):
            gt = text.find(">", lt)
            if gt < 0:
                break
            out.append(("other", "", ""))
            i = gt + 1
        else:  # a "<" that starts nothing ("a < b") is text
            out.append(("text", "", "<"))
            i = lt + 1
    return out


@functools.lru_cache(maxsize=4)  # one analysis asks for the body, headings and first <p>
def _parse_html(text: str) -> _Html:
    tokens_ = _html_tokens(text)
    # A heading counts only when its closing tag follows somewhere (as before): where the last
    # </hN> is, for each level, decides whether an <hN> opens one.
    last_close: dict[str, int] = {}
    for i, (kind, name, _) in enumerate(tokens_):
        if kind == "end":
            last_close[name] = i
    body: list[str] = []
    headings: list[str] = []
    first_p: str | None = None
    heading: tuple[str, list[str]] | None = None
    para: list[str] | None = None
    for i, (kind, name, data) in enumerate(tokens_):
        piece = html.unescape(data) if kind == "text" else \
            "\n\n" if kind == "end" and name in _BLOCKS else " "
        body.append(piece)
        if heading is not None:
            if kind == "end" and name == heading[0]:
                headings.append("".join(heading[1]))
                heading = None
            else:
                heading[1].append(piece if kind == "text" else " ")
        elif kind == "start" and name in _BLOCKS - {"p", "li", "div"} \
                and last_close.get(name, -1) > i:
            heading = (name, [])
        if first_p is None:
            if para is not None:
                if kind == "end" and name == "p":
                    first_p, para = "".join(para), None
                else:
                    para.append(piece if kind == "text" else " ")
            elif kind == "start" and name == "p" and last_close.get("p", -1) > i:
                para = []
    return _Html("".join(body), headings, first_p)


def detect_kind(text: str) -> str:
    lowered = text.lower()
    if (("<h" in lowered and _parse_html(text).headings)
            or re.search(r"<(p|ul|li|div)\b", text, re.IGNORECASE)):
        return "html"
    lines = text.split("\n")
    if any(_md_heading(line) or _md_list_item(line) for line in lines):
        return "markdown"
    return "plain"


def headings(text: str, kind: str) -> list[str]:
    if kind == "markdown":
        return [h for _, h in md_headings(text)]
    if kind == "html":
        return _parse_html(text).headings
    return []


def body_text(text: str, kind: str) -> str:
    """The text readers read: HTML tags and Markdown markers removed, headings kept."""
    if kind == "html":
        return _parse_html(text).body
    if kind == "markdown":
        lines = []
        for line in text.split("\n"):
            h = _md_heading(line)
            lines.append(h[1] + "." if h else line)
        return re.sub(r"[*_`>]+", "", "\n".join(lines))
    return text


def first_paragraph(text: str, kind: str, limit_words: int = 100) -> str:
    """The first block that is not a heading, cut to ``limit_words`` words."""
    if kind == "html":
        first = _parse_html(text).first_paragraph
        if first is not None:
            text = first
    blocks = [b.strip() for b in re.split(r"\n\s*\n", text) if b.strip()]
    if kind == "markdown":
        blocks = [b for b in blocks if "\n" in b or _md_heading(b) is None]
    if not blocks:
        return ""
    words = blocks[0].split()
    return " ".join(words[:limit_words])

