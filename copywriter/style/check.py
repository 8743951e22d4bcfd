"""The house style checker: plain Python over one text, no model and no database.

What a maintained library covers comes from it: generic prose issues (cliches, redundancy,
hedging, typography, ...) from proselint, whose patterns run on RE2 (linear time); US/GB
spellings from breame's word lists. Our own code covers only what those do not: the
workspace's banned and preferred terms, the Oxford comma, headline case, numbers style,
exclamation marks, the reading-grade ceiling and required disclaimers.

Safe on hostile input: the user's terms are never compiled into a regular expression; the text
is read once into word and punctuation tokens by one linear pattern and every rule walks those.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from copywriter.core.readability import readability

# A word (letters and digits, inner apostrophes) or one punctuation mark that matters here.
TOKEN_RE = re.compile(r"[^\W_]+(?:['\u2019][^\W_]+)*|[,;:.!?\u2026\n]")
HEADING_RE = re.compile(r"^#{1,6}[ \t]+([^\n]*)$", re.MULTILINE)


@dataclass(frozen=True)
class Finding:
    """One place where the text breaks a rule. ``replacement`` is the text for ``[start:end]``
    when the fix is mechanical, ``None`` when a person has to rewrite it."""

    rule: str  # "banned", "preferred", "spelling", "oxford_comma", "headline_case", "numbers",
    #            "exclamations", "reading_grade", "disclaimer", or "generic:<proselint check>"
    message: str
    start: int
    end: int
    replacement: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Rules:
    """A workspace's rules, as the checker reads them (``models.StyleRules.as_rules``)."""

    banned: Sequence[dict[str, str]] = ()  # [{"term", "reason"}]
    preferred: Sequence[dict[str, str]] = ()  # [{"use", "instead_of"}]
    spelling: str = ""  # "", "en-US", "en-GB"
    oxford_comma: str = ""  # "", "always", "never"
    headline_case: str = ""  # "", "title", "sentence"
    numbers: str = ""  # "", "numerals", "words"
    exclamations: str = "any"  # "any", "one", "none"
    max_grade: int | None = None
    disclaimers: Sequence[dict[str, str]] = ()  # [{"category", "text"}]
    generic: bool = True
    max_rewrites: int = 2
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Token:
    text: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.text[0].isalnum()

    @property
    def lower(self) -> str:
        return self.text.lower().replace("\u2019", "'")


def tokens(text: str) -> list[Token]:
    return [Token(m.group(0), m.start(), m.end()) for m in TOKEN_RE.finditer(text)]


def words_of(phrase: str) -> list[str]:
    return [t.lower for t in tokens(phrase) if t.word]


def match_case(found: str, replacement: str) -> str:
    """``replacement`` written the way ``found`` was: UPPER, Capitalised or as given."""
    if len(found) > 1 and found.isupper():
        return replacement.upper()
    if found[:1].isupper() and replacement[:1].islower():
        return replacement[:1].upper() + replacement[1:]
    return replacement


# --- terms: banned and preferred -----------------------------------------------------------------

def _phrase_index(phrases: Iterable[tuple[str, Any]]) -> dict[str, list[tuple[list[str], Any]]]:
    """First word -> [(the phrase's words, payload)], longest phrases first."""
    index: dict[str, list[tuple[list[str], Any]]] = {}
    for phrase, payload in phrases:
        words = words_of(phrase)
        if words:
            index.setdefault(words[0], []).append((words, payload))
    for entries in index.values():
        entries.sort(key=lambda e: -len(e[0]))
    return index


def find_phrases(toks: list[Token], phrases: Iterable[tuple[str, Any]]) -> list[tuple[int, int, Any]]:
    """(start, end, payload) of each whole-word occurrence of a phrase, case-insensitive, words
    separated by anything but a sentence's end; no two occurrences overlap."""
    index = _phrase_index(phrases)
    if not index:
        return []
    # For each word: its position in ``toks`` and how many sentence ends come before it, so
    # "is there a full stop inside this occurrence" is one subtraction.
    words: list[Token] = []
    ends_before: list[int] = []
    ends = 0
    for t in toks:
        if t.word:
            words.append(t)
            ends_before.append(ends)
        elif t.text in ".!?\n":
            ends += 1
    found: list[tuple[int, int, Any]] = []
    i = 0
    while i < len(words):
        hit = None
        for phrase, payload in index.get(words[i].lower, ()):
            n = len(phrase)
            if (i + n <= len(words) and ends_before[i + n - 1] == ends_before[i]
                    and all(words[i + k].lower == phrase[k] for k in range(1, n))):
                hit = (words[i].start, words[i + n - 1].end, payload, n)
                break
        if hit is None:
            i += 1
            continue
        found.append(hit[:3])
        i += hit[3]
    return found


def check_banned(text: str, toks: list[Token], rules: Rules) -> list[Finding]:
    out = []
    for start, end, item in find_phrases(toks, ((b["term"], b) for b in rules.banned)):
        reason = item.get("reason") or "it is on the workspace's banned list"
        out.append(Finding("banned", f"\u201c{text[start:end]}\u201d is banned: {reason}", start, end))
    return out


def check_preferred(text: str, toks: list[Token], rules: Rules) -> list[Finding]:
    out = []
    for start, end, item in find_phrases(toks, ((p["instead_of"], p) for p in rules.preferred)):
        found = text[start:end]
        use = match_case(found, item["use"])
        out.append(Finding("preferred", f"The house style writes \u201c{item['use']}\u201d, not "
                                        f"\u201c{found}\u201d.", start, end, use))
    return out


# --- spelling (breame's lists) ----------------------------------------------------------------------

# Words breame maps to the other spelling that are also right in the chosen one (a computer
# program in en-GB, a draft document, to tire; in en-US the axe and grey are common). Flagging
# them would be wrong more often than right.
FINE_IN_GB = frozenset({
    "program", "programs", "programmed", "programming", "practice", "practices", "license",
    "licensed", "licensing", "draft", "drafts", "drafted", "drafting", "tire", "tired", "tires",
    "tiring", "disk", "disks", "install", "installs", "installed", "installing", "judgment",
    "judgments", "ton", "tons", "meter", "meters", "gram", "grams", "dialog", "dialogs",
    "analog", "inquiry", "inquiries", "enquiry", "check", "checks", "curb", "curbs", "story",
    "stories", "aging", "fulfill", "fulfills", "enroll", "enrolls", "skillful", "ax",
})
FINE_IN_US = frozenset({
    "axe", "axes", "grey", "greys", "judgement", "judgements", "ageing", "catalogue",
    "catalogues", "dialogue", "dialogues", "theatre", "theatres", "glamour", "practise", "whisky",
})


@functools.cache
def _spellings() -> tuple[dict[str, str], dict[str, str]]:
    """(British -> American, American -> British), lower case."""
    from breame.data.spelling_constants import AMERICAN_ENGLISH_SPELLINGS, BRITISH_ENGLISH_SPELLINGS

    return dict(BRITISH_ENGLISH_SPELLINGS), dict(AMERICAN_ENGLISH_SPELLINGS)


def check_spelling(text: str, toks: list[Token], rules: Rules) -> list[Finding]:
    if rules.spelling not in ("en-US", "en-GB"):
        return []
    gb_to_us, us_to_gb = _spellings()
    table, fine, name = ((gb_to_us, FINE_IN_US, "American") if rules.spelling == "en-US"
                         else (us_to_gb, FINE_IN_GB, "British"))
    out = []
    for t in toks:
        if not t.word or "'" in t.lower or t.lower in fine:
            continue
        other = table.get(t.lower)
        if other and other != t.lower:
            fixed = match_case(t.text, other)
            out.append(Finding("spelling", f"{name} spelling ({rules.spelling}): \u201c{fixed}\u201d.",
                               t.start, t.end, fixed))
    return out


# --- the Oxford comma ----------------------------------------------------------------------------

CONJUNCTIONS = frozenset({"and", "or"})
# A lone word before the first comma that opens the sentence rather than starting a list.
OPENERS = frozenset({
    "however", "also", "plus", "today", "now", "yes", "no", "so", "then", "still", "first",
    "finally", "meanwhile", "instead", "indeed", "besides", "therefore", "otherwise", "again",
    "sometimes", "often", "here", "there", "well", "and", "but", "or", "tonight", "soon",
})
MAX_ITEM_WORDS = 3  # "red, white and blue", "fast shipping, free returns and a warranty"


def _segment_back(toks: list[Token], end: int) -> tuple[int, int]:
    """(words, index of the punctuation token before them or -1) for the words ending at
    ``toks[end - 1]``; stops early past ``MAX_ITEM_WORDS + 1`` words."""
    n, i = 0, end - 1
    while i >= 0 and toks[i].word and n <= MAX_ITEM_WORDS:
        n, i = n + 1, i - 1
    return n, i


def _list_start_ok(toks: list[Token], comma: int) -> bool:
    """Is the text before the list's first comma (``toks[comma]``) a list item?"""
    n, before = _segment_back(toks, comma)
    if n == 0:
        return False
    return not (n == 1 and (before < 0 or toks[before].text in ".!?\n")
                and toks[comma - 1].lower in OPENERS)


def check_oxford(text: str, toks: list[Token], rules: Rules) -> list[Finding]:
    if rules.oxford_comma not in ("always", "never"):
        return []
    out = []
    for i, t in enumerate(toks):
        if not (t.word and t.lower in CONJUNCTIONS and i + 1 < len(toks) and toks[i + 1].word):
            continue
        if rules.oxford_comma == "never" and i >= 2 and toks[i - 1].text == ",":
            n, before = _segment_back(toks, i - 1)
            if 1 <= n <= MAX_ITEM_WORDS and before >= 0 and toks[before].text == "," \
                    and _list_start_ok(toks, before):
                last = toks[i - 2]
                out.append(Finding("oxford_comma", "No comma before the last item of a list "
                                   "(the house style drops the Oxford comma).",
                                   last.start, t.end, f"{text[last.start:last.end]} {t.text}"))
        elif rules.oxford_comma == "always" and i >= 1 and toks[i - 1].word:
            n, before = _segment_back(toks, i)
            if 1 <= n <= MAX_ITEM_WORDS and before >= 0 and toks[before].text == "," \
                    and _list_start_ok(toks, before):
                last = toks[i - 1]
                out.append(Finding("oxford_comma", "A comma before the last item of a list "
                                   "(the house style uses the Oxford comma).",
                                   last.start, t.end, f"{text[last.start:last.end]}, {t.text}"))
    return out


# --- headline case -------------------------------------------------------------------------------

MINOR_WORDS = frozenset({
    "a", "an", "the", "and", "but", "or", "nor", "for", "so", "yet", "as", "at", "by", "in",
    "of", "off", "on", "per", "to", "up", "via", "vs", "with", "from", "into", "onto", "over",
})


def _keep_as_is(word: str) -> bool:
    """Acronyms, numbers and words with inner capitals (iPhone, SaaS) keep their case."""
    return (len(word) > 1 and word.isupper()) or any(c.isdigit() for c in word) \
        or any(c.isupper() for c in word[1:])


def title_case(line: str) -> str:
    toks = [t for t in tokens(line) if t.word]
    out = list(line)
    for k, t in enumerate(toks):
        w = t.text
        if _keep_as_is(w):
            continue
        minor = w.lower() in MINOR_WORDS and 0 < k < len(toks) - 1 \
            and line[toks[k - 1].end:t.start].strip() not in (":", "\u2014", "-")
        new = w.lower() if minor else w[:1].upper() + w[1:]
        out[t.start:t.end] = list(new)
    return "".join(out)


def sentence_case(line: str) -> str:
    toks = [t for t in tokens(line) if t.word]
    out = list(line)
    for k, t in enumerate(toks):
        w = t.text
        if _keep_as_is(w):
            continue
        new = w[:1].upper() + w[1:] if k == 0 else w.lower()
        out[t.start:t.end] = list(new)
    return "".join(out)


def heading_spans(text: str) -> list[tuple[int, int]]:
    """The markdown headings of a text (``# ...`` lines), as (start, end) of their words."""
    return [(m.start(1), m.end(1)) for m in HEADING_RE.finditer(text) if m.group(1).strip()]


def check_headlines(text: str, rules: Rules, headlines: Iterable[tuple[int, int]]) -> list[Finding]:
    if rules.headline_case not in ("title", "sentence"):
        return []
    convert, name = (title_case, "Title Case") if rules.headline_case == "title" else (
        sentence_case, "Sentence case")
    out = []
    for start, end in headlines:
        line = text[start:end]
        want = convert(line)
        if want != line:
            # Not one click: a proper noun can look like any other word to sentence case.
            out.append(Finding("headline_case", f"Headings are in {name}: \u201c{want}\u201d.",
                               start, end))
    return out


# --- numbers -------------------------------------------------------------------------------------

NUMBER_WORDS = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
                "six": "6", "seven": "7", "eight": "8", "nine": "9"}
DIGIT_WORDS = {v: k for k, v in NUMBER_WORDS.items()}
# "one" is as often a pronoun ("the one you love", "one of our best") as a count.
NOT_COUNTS = frozenset({"one", "zero"})
CURRENCY = "$\u00a3\u20ac\u00a5#"


def check_numbers(text: str, toks: list[Token], rules: Rules) -> list[Finding]:
    if rules.numbers not in ("numerals", "words"):
        return []
    out = []
    for t in toks:
        if not t.word:
            continue
        if rules.numbers == "numerals" and t.lower in NUMBER_WORDS and t.lower not in NOT_COUNTS:
            if text[t.end:t.end + 1] == "-" or text[t.start - 1:t.start] == "-":
                continue  # twenty-five, one-of-a-kind
            out.append(Finding("numbers", "The house style writes numbers as numerals.",
                               t.start, t.end, NUMBER_WORDS[t.lower]))
        elif rules.numbers == "words" and len(t.text) == 1 and t.text.isdigit():
            before = text[t.start - 1:t.start] if t.start else ""
            after, next_ = text[t.end:t.end + 1], text[t.end + 1:t.end + 2]
            if (before and before in CURRENCY + ".,:/-") or (after and after in "%-/:") \
                    or (after in (".", ",") and next_.isdigit()):
                continue  # $5, 5%, 3.5, 1,000, 5:30, 24/7, 5-star
            out.append(Finding("numbers", "The house style spells out numbers under ten.",
                               t.start, t.end, match_case(t.text, DIGIT_WORDS[t.text])))
    return out


# --- exclamation marks ---------------------------------------------------------------------------

def check_exclamations(text: str, toks: list[Token], rules: Rules) -> list[Finding]:
    if rules.exclamations not in ("one", "none"):
        return []
    runs: list[tuple[int, int]] = []
    for t in toks:
        if t.text == "!":
            if runs and runs[-1][1] == t.start:
                runs[-1] = (runs[-1][0], t.end)
            else:
                runs.append((t.start, t.end))
    out = []
    allowed = 1 if rules.exclamations == "one" else 0
    for k, (start, end) in enumerate(runs):
        if k < allowed:
            if end - start > 1:
                out.append(Finding("exclamations", "One exclamation mark at most.", start, end, "!"))
            continue
        message = ("The house style allows one exclamation mark per text." if allowed
                   else "The house style uses no exclamation marks.")
        out.append(Finding("exclamations", message, start, end, "."))
    return out


# --- reading grade and disclaimers ---------------------------------------------------------------

def check_grade(text: str, rules: Rules) -> list[Finding]:
    if rules.max_grade is None or not text.strip():
        return []
    grade = readability(text)["grade"]
    if grade is None or grade <= rules.max_grade:
        return []
    return [Finding("reading_grade", f"Reading grade {grade:g} is above the house ceiling of "
                                     f"{rules.max_grade}: shorter sentences and plainer words bring "
                                     "it down.", 0, len(text))]


def _squash(s: str) -> str:
    return " ".join(s.replace("\u2019", "'").lower().split())


def check_disclaimers(text: str, rules: Rules, category: str | None) -> list[Finding]:
    if not category:
        return []
    have = _squash(text)
    out = []
    for d in rules.disclaimers:
        if d.get("category") == category and _squash(d["text"]) not in have:
            end = len(text.rstrip())
            out.append(Finding("disclaimer", f"Copy in {category} needs the disclaimer "
                                             f"\u201c{d['text']}\u201d.", end, end,
                               ("\n\n" if end else "") + d["text"]))
    return out


# --- generic issues (proselint) -----------------------------------------------------------------

# proselint's own defaults, less "restricted" (off there too: it flags every word a child would
# not know) and "annotations" (TODO/FIXME notes, not copy).
GENERIC_SKIP = ("restricted", "annotations")


@functools.cache
def _generic_checks() -> tuple[Any, ...]:
    from proselint.checks import __register__
    from proselint.config import DEFAULT

    enabled = [k for k, on in DEFAULT["checks"].items() if on and k not in GENERIC_SKIP]
    return tuple(c for c in __register__ if any(c.matches_partial(k) for k in enabled))


def check_generic(text: str) -> list[Finding]:
    padded = f"\n{text}\n"  # proselint's checks expect the padding its own files get
    out = []
    for check in _generic_checks():
        for r in check.check_with_flags(padded):
            start, end = max(0, r.span[0] - 1), min(len(text), r.span[1] - 1)
            if start >= end:
                continue
            out.append(Finding(f"generic:{r.check_path}", r.message, start, end,
                               r.replacements if isinstance(r.replacements, str) else None))
    return out


# --- all of them -----------------------------------------------------------------------------

def check(rules: Rules, text: str, *, category: str | None = None,
          headlines: Iterable[tuple[int, int]] | None = None) -> list[Finding]:
    """Every finding, in text order. ``headlines``: extra (start, end) spans to hold to the
    headline case (a slot template's headline items); markdown headings always are."""
    toks = tokens(text)
    heads = heading_spans(text) + list(headlines or [])
    found = (check_banned(text, toks, rules) + check_preferred(text, toks, rules)
             + check_spelling(text, toks, rules) + check_oxford(text, toks, rules)
             + check_headlines(text, rules, heads) + check_numbers(text, toks, rules)
             + check_exclamations(text, toks, rules) + check_grade(text, rules)
             + check_disclaimers(text, rules, category))
    if rules.generic:
        found += check_generic(text)
    return sorted(found, key=lambda f: (f.start, f.end, f.rule))


def apply(text: str, findings: Iterable[Finding]) -> tuple[str, int]:
    """The text with every mechanical fix applied, and how many were. A fix that overlaps one
    already applied is left (the next check shows it again if it still applies)."""
    chosen: list[Finding] = []
    for f in sorted((f for f in findings if f.replacement is not None), key=lambda f: (f.start, f.end)):
        if chosen and f.start < chosen[-1].end or (chosen and f.start == chosen[-1].start):
            continue
        chosen.append(f)
    pieces, at = [], 0
    for f in chosen:
        pieces += [text[at:f.start], f.replacement or ""]
        at = f.end
    pieces.append(text[at:])
    return "".join(pieces), len(chosen)
