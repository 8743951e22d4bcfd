"""Plain text checks shared by the product and the eval: normalising, whole-word containment,
words, blanks left for someone to fill, and instructions repeated from the prompt.

Pure Python at the bottom of the house: the claims check, the best-of-N scorer in the pipeline,
the task-corpus validator and the quality eval all read text the same way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_DASHES = re.compile(r"[\u2010-\u2015\u2212-]")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def norm(text: str) -> str:
    """Lower case, curly quotes straight, dashes and runs of white space as one space, '&' as
    'and': "Ember & Oak" matches "ember and oak", "40-hour" matches "40 hour"."""
    text = text.translate(_QUOTES).lower().replace("&", " and ")
    text = _DASHES.sub(" ", text)
    return " ".join(text.split())


def contains(text: str, phrase: str) -> bool:
    """Whole-word, normalised containment of ``phrase`` in ``text``; a plural "s"/"es" on the
    last word counts ("hot tub" is in "hot tubs")."""
    p = norm(phrase)
    if not p:
        return False
    return re.search(r"(?<![\w])" + re.escape(p) + r"(?:e?s)?(?![\w])", norm(text)) is not None



def words(text: str) -> list[str]:
    return re.findall(r"[^\W_]+(?:['’][^\W_]+)*", text)



# --- placeholders ----------------------------------------------------------------------------

_PLACEHOLDER_NOUNS = {
    "name", "names", "company", "business", "brand", "product", "service", "link", "url",
    "website", "date", "time", "phone", "number", "email", "address", "location", "city", "price",
    "discount", "code", "cta", "title", "amount", "percentage", "x", "n", "logo", "image", "the",
    "of", "here", "first", "last", "full", "contact", "details", "offer", "event", "day",
}
_PLACEHOLDER_START = re.compile(
    r"^(insert|add|enter|your|customer|recipient|client|prospect|company|first name|last name)\b")
_BRACKETED = re.compile(r"\[([^\[\]\n]{1,60})\]|<([^<>\n]{1,60})>|\{\{?\s*([^{}\n]{1,60}?)\s*\}?\}")
_FILLER = re.compile(r"(?<![\w])(?:[$£€]\s?)?(?:XX+|xx+)(?:[%.,]\d*)?(?![\w])|lorem ipsum",
                     re.IGNORECASE)


def placeholders(text: str) -> list[str]:
    """Blanks left for someone to fill: "[Your Name]", "[Company]", "{name}", "<insert link>",
    "XX%". Bracketed copy that is not a blank ("[Tap the link]" as a script's on-screen text)
    does not count."""
    return [text[s:e] for s, e in placeholder_spans(text)]


def placeholder_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each blank ``placeholders`` finds: bracketed ones, then fillers."""
    found = []
    for m in _BRACKETED.finditer(text):
        inner = (m.group(1) or m.group(2) or m.group(3) or "").strip()
        low = inner.lower()
        if m.group(3) is not None and re.fullmatch(r"[A-Za-z_][\w .]*", inner):
            found.append(m.span())  # {name} / {{ name }}
        elif _PLACEHOLDER_START.match(low) or (
                low and set(re.findall(r"[a-z]+", low)) <= _PLACEHOLDER_NOUNS
                and re.search(r"[a-z]", low)):
            found.append(m.span())
    found += [m.span() for m in _FILLER.finditer(text)]
    return found


# --- echoed instructions ---------------------------------------------------------------------

SHINGLE = 5  # consecutive words of instruction text that count as an echo


def shingles(tokens: list[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)}


def echoed_instructions(text: str, *, prompt: str, field_values: Sequence[str]) -> list[str]:
    """Instruction sentences of the prompt that the output repeats: a sentence counts when
    ``SHINGLE`` of its words in a row (outside the field values, which the copy may well
    repeat) appear in the output in the same order."""
    instruction = prompt
    for value in sorted((v for v in field_values if v and str(v).strip()), key=len, reverse=True):
        instruction = instruction.replace(str(value), "\n")
    out_tokens = words(norm(text))
    out_shingles = shingles(out_tokens, SHINGLE)
    echoed = []
    for sentence in re.split(r"(?<=[.!?:])\s+|\n+", instruction):
        tokens = words(norm(sentence))
        if len(tokens) >= SHINGLE and shingles(tokens, SHINGLE) & out_shingles:
            echoed.append(sentence.strip())
    return echoed


