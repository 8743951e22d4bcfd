"""The task corpus (issue 15): realistic briefs for every template with the expert output, kept
in ``data/tasks/*.jsonl`` to teach the model the job. This module reads and validates it.

One example per line: ``{"id", "template", "industry", "fields", "output"}``. An example is
usable only when the fields pass the template's own rules and render its prompt, and the output
follows the template (word range, its slots where it has them), leaves no placeholder, repeats no
instruction, adds no preamble, states no number the brief does not, and is not a near-copy of
another example. ``python -m copywriter.quality.tasks [FILES]`` prints every problem.

Splits are by code, never by the writers: 10% of the templates are held out whole, and 10% of
the examples of every other template (``split_of``), both by a stable hash, so a file can grow
without moving an example from one split to the other.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copywriter.catalog.schema import PromptError, PromptTemplate, load_library, validate_values
from copywriter.catalog.slots import check_slots
from copywriter.core.text import echoed_instructions, norm, placeholders, shingles, words
from copywriter.pipeline.slots import brief_block, item_prompt, items_for, sample_items
from copywriter.quality.briefs import load_briefs, overlap, word_set
from copywriter.quality.checks import invented_numbers

ROOT = Path(__file__).resolve().parents[2]
TASKS_DIR = ROOT / "data" / "tasks"
KEYS = {"id", "template", "industry", "fields", "output"}
WORD_SLACK = 0.15  # the templates' word ranges are targets for the model; people may run over a bit
NEAR_DUPLICATE = 0.5  # shared 6-word runs / the smaller text's runs
# Word-set Jaccard of an example's field text with a quality-eval brief's at or above which the
# example would teach the eval's own brief (the eval briefs are the yardstick: never trained on).
NEAR_EVAL_BRIEF = 0.4
HELD_OUT_TEMPLATES = 10  # percent
HELD_OUT_EXAMPLES = 10  # percent, of the other templates' examples
_PREAMBLE = re.compile(r"^\s*(?:sure\b|certainly\b|here(?:'s| is| are)\b|below (?:is|are)\b|"
                       r"as an ai\b|i hope\b|okay\b)", re.IGNORECASE)
# Structure the templates ask for, not claims: "0-3 min" beats of a run of show, "Module 2",
# "Week 3", and ordinals that enumerate ("Third, ..."). Numbers the prompt itself states count as
# the brief's ("Give 3 tips").
_STRUCTURAL = re.compile(
    r"\b\d{1,3}\s*[-–]\s*\d{1,3}\s*(?:min|mins|minutes|s|sec|secs|seconds)\b"
    r"|\b\d{1,2}/(?:\d{1,2}\b)?"  # a thread's "2/5" or "2/"
    r"|\b(?:module|week|day|lesson|session|episode|part|step|slide|email|question|chapter|unit|"
    r"round|phase|stage|tip|reason|idea|option|scene|shot|card|frame|tweet|post|clip)[ \t]+#?\d{1,2}\b"
    r"|\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth)\b(?=\s*[,:]|\s+(?:up|off|of|step|tip))",
    re.IGNORECASE)
_QUOTED = re.compile(r'"([^"\n]{1,120})"')
_AFTERWORD = ("note:", "notes:", "this ad ", "this copy ", "this email ", "this post ")


@dataclass
class Example:
    id: str
    template: str
    fields: dict[str, str]
    output: str
    industry: str = ""
    source: str = ""  # file:line
    problems: list[str] = field(default_factory=list)


def _bucket(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 100


def split_of(example_id: str, template: str) -> str:
    """"heldout_template", "heldout" or "train", stable under additions."""
    if _bucket("template:" + template) < HELD_OUT_TEMPLATES:
        return "heldout_template"
    return "heldout" if _bucket("example:" + example_id) < HELD_OUT_EXAMPLES else "train"


def read(paths: Iterable[Path]) -> list[Example]:
    out = []
    for path in paths:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            where = f"{path.name}:{n}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                out.append(Example(id=where, template="", fields={}, output="", source=where,
                                   problems=[f"not JSON: {exc.msg}"]))
                continue
            ex = Example(id=str(raw.get("id", where)), template=str(raw.get("template", "")),
                         fields={k: (str(v) if not isinstance(v, str) else v)
                                 for k, v in (raw.get("fields") or {}).items()},
                         output=str(raw.get("output", "")), industry=str(raw.get("industry", "")),
                         source=where)
            if not isinstance(raw, dict) or set(raw) - KEYS or {"id", "template", "fields",
                                                                  "output"} - set(raw):
                ex.problems.append(f"keys must be {sorted(KEYS)} (industry optional)")
            out.append(ex)
    return out


def _runs(text: str, n: int = 6) -> set[tuple[str, ...]]:
    return shingles(words(norm(text)), n)


def check(examples: Sequence[Example], templates: Mapping[str, PromptTemplate], *,
          eval_briefs: Sequence[Mapping[str, Any]] | None = None) -> None:
    """Fill in each example's ``problems``. ``eval_briefs``: the quality eval's briefs (default
    ``data/quality/briefs.jsonl``); an example close to one of them is left out of training."""
    if eval_briefs is None:
        eval_briefs = load_briefs()
    eval_words = [(b["id"], word_set(" ".join(str(v) for v in b["fields"].values())))
                  for b in eval_briefs]
    ids = Counter(e.id for e in examples)
    for ex in examples:
        brief_words = word_set(" ".join(str(v) for v in ex.fields.values()))
        ex.problems += [f"too close to the quality eval's brief {bid} (never trained on)"
                        for bid, seen in eval_words if overlap(brief_words, seen) >= NEAR_EVAL_BRIEF]
        if ids[ex.id] > 1:
            ex.problems.append("id used more than once")
        tpl = templates.get(ex.template)
        if tpl is None:
            ex.problems.append(f"unknown template {ex.template!r}")
            continue
        bad = validate_values(tpl.fields, dict(ex.fields))
        unknown = set(ex.fields) - {f.name for f in tpl.fields}
        if unknown:
            ex.problems.append(f"fields the template does not have: {sorted(unknown)}")
        ex.problems += [f"field {k}: {v}" for k, v in bad.items()]
        try:
            prompt = tpl.render(ex.fields)
        except PromptError as exc:
            ex.problems.append(f"the prompt does not render: {exc}")
            prompt = ""
        text = ex.output.strip()
        if not text:
            ex.problems.append("empty output")
            continue
        n = len(words(text))
        if tpl.slots:
            read_back = check_slots(text, tpl.slots, ex.fields)
            ex.problems += [f"slots: {f}" for f in read_back.failures]
        elif not tpl.min_words * (1 - WORD_SLACK) <= n <= tpl.max_words * (1 + WORD_SLACK):
            ex.problems.append(f"{n} words; the template asks for {tpl.min_words}-{tpl.max_words}")
        later = [line.strip().lower() for line in text.splitlines()[1:]]
        if _PREAMBLE.match(text) or any(line.startswith(_AFTERWORD) for line in later):
            ex.problems.append("a preamble or a note about the copy, not copy")
        # A blank the prompt itself asks for ("sign off as [Name]") is the template's, not a slip.
        ex.problems += [f"placeholder {p}" for p in placeholders(text) if p not in prompt]
        values = [v for v in ex.fields.values() if v]
        masked = _STRUCTURAL.sub(lambda m: " " * len(m.group(0)), text)
        nums = invented_numbers(masked, brief="\n".join(values + [prompt]))
        if nums:
            ex.problems.append(f"numbers not in the brief: {', '.join(nums)}")
        if prompt:
            # A phrase the prompt quotes is one the copy is asked to use ("What you'll get").
            asked = values + _QUOTED.findall(prompt)
            ex.problems += [f"repeats the instruction {e[:60]!r}"
                            for e in echoed_instructions(text, prompt=prompt, field_values=asked)]
    runs = [(ex, _runs(ex.output)) for ex in examples]
    for i, (a, ra) in enumerate(runs):
        for b, rb in runs[i + 1:]:
            if ra and rb and len(ra & rb) / min(len(ra), len(rb)) > NEAR_DUPLICATE:
                b.problems.append(f"near-duplicate of {a.id}")
        if a.fields and any(b.fields == a.fields and b.template == a.template for b, _ in runs[i + 1:]):
            a.problems.append("same brief as another example")


def item_pairs(ex: Example, tpl: PromptTemplate) -> list[tuple[str, str]]:
    """A slot template's example as the worker writes it, item by item: (the item row's prompt,
    the expert's item), so the model also learns the one-line item path. Items the expert output
    does not have (a range written shorter than its upper count) give no pair."""
    if not tpl.slots:
        return []
    data = tpl.raw
    written = check_slots(ex.output, tpl.slots, ex.fields).items
    brief = brief_block(data.get("fields") or [], ex.fields)
    shapes = sample_items(data, tpl.slots)
    pairs = []
    for item in items_for(tpl.slots, ex.fields):
        got = written.get(str(item.slot["name"])) or []
        if item.n < len(got) and got[item.n].strip():
            pairs.append((item_prompt(item, template_title=str(data.get("title", "")), brief=brief,
                                      fields=ex.fields, examples=shapes), got[item.n].strip()))
    return pairs


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or sorted(TASKS_DIR.glob("*.jsonl"))
    good, _bad = load_library(ROOT / "templates_lib")
    templates = {t.id: t for t in good}
    examples = read(paths)
    check(examples, templates)
    for ex in examples:
        for p in ex.problems:
            print(f"{ex.source} {ex.id}: {p}")
    ok = [e for e in examples if not e.problems]
    per_template = Counter(e.template for e in ok)
    splits = Counter(split_of(e.id, e.template) for e in ok)
    print(f"{len(examples)} examples, {len(ok)} without problems, {len(per_template)} templates "
          f"covered ({sum(1 for c in per_template.values() if c >= 4)} with >= 4); "
          f"splits: {dict(splits)}")
    return 1 if len(ok) < len(examples) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
