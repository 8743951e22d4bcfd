"""The prompt-template schema: loading, validation and rendering.

Pure Python (no Django) so that the validator runs from a plain shell, from the test suite and
from the system check alike. A template is one YAML file ``templates_lib/<category>/<id>.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, meta
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIELD_TYPES = ("text", "textarea", "choice", "number")
OUTPUT_FORMATS = ("plain", "list", "markdown")
MAX_LENGTH_CAP = {"text": 300, "textarea": 4000}
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
TAG_RE = re.compile(r"^[a-z0-9][a-z0-9 +&-]*$")
TOP_KEYS = {
    "id", "title", "description", "category", "tags", "fields", "prompt", "output",
    "sampling", "samples", "sample_output",
}
FIELD_KEYS = {"name", "label", "type", "help", "required", "max_length", "choices", "example",
              "min", "max"}
OUTPUT_KEYS = {"format", "min_words", "max_words", "variants"}
SAMPLING_KEYS = {"temperature", "top_p", "repetition_penalty"}
SAMPLING_BOUNDS = {"temperature": (0.1, 1.5), "top_p": (0.1, 1.0), "repetition_penalty": (1.0, 2.0)}

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                     keep_trailing_newline=False)


class TemplateInvalid(ValueError):
    """A template file breaks the schema; ``errors`` lists every problem found."""

    def __init__(self, source: str, errors: list[str]):
        self.source = source
        self.errors = errors
        super().__init__(f"{source}: " + "; ".join(errors))


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    type: str
    required: bool
    example: Any
    help: str = ""
    max_length: int | None = None
    choices: tuple[str, ...] = ()
    min: int | None = None
    max: int | None = None


@dataclass(frozen=True)
class PromptTemplate:
    id: str
    title: str
    description: str
    category: str
    tags: tuple[str, ...]
    fields: tuple[Field, ...]
    prompt: str
    output_format: str
    min_words: int
    max_words: int
    variants: int
    sampling: dict[str, float]
    samples: tuple[dict[str, Any], ...]
    sample_output: str
    content_hash: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    def field_map(self) -> dict[str, Field]:
        return {f.name: f for f in self.fields}

    def render(self, values: dict[str, Any]) -> str:
        """Render the prompt; missing optional fields render as empty."""
        context = {f.name: values.get(f.name, "") for f in self.fields}
        return render_prompt(self.prompt, context)

    def validate_values(self, values: dict[str, Any]) -> dict[str, str]:
        """Errors per field name for user-supplied values (empty dict when valid)."""
        return validate_values(self.fields, values)


def render_prompt(prompt: str, context: dict[str, Any]) -> str:
    text = _env.from_string(prompt).render(**context)
    # Optional blocks leave blank runs behind; keep the prompt tidy for the model.
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def validate_values(fields: tuple[Field, ...] | list[Field], values: dict[str, Any]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for f in fields:
        value = values.get(f.name)
        if value is None or (isinstance(value, str) and not value.strip()):
            if f.required:
                errors[f.name] = f"{f.label} is required."
            continue
        if f.type == "number":
            try:
                number = int(str(value).strip())
            except ValueError:
                errors[f.name] = f"{f.label} must be a whole number."
                continue
            if f.min is not None and number < f.min:
                errors[f.name] = f"{f.label} must be at least {f.min}."
            elif f.max is not None and number > f.max:
                errors[f.name] = f"{f.label} must be at most {f.max}."
            continue
        if not isinstance(value, str):
            errors[f.name] = f"{f.label} must be text."
            continue
        if "\x00" in value:  # PostgreSQL text cannot hold it; nobody types it
            errors[f.name] = f"{f.label} contains a NUL character (\\0); remove it."
            continue
        if f.type == "choice" and value not in f.choices:
            errors[f.name] = f"{f.label} must be one of: {', '.join(f.choices)}."
        elif f.max_length is not None and len(value) > f.max_length:
            errors[f.name] = (f"{f.label} is {len(value)} characters long; "
                              f"the limit is {f.max_length}.")
    return errors


def _check_field(i: int, raw: Any, errors: list[str]) -> Field | None:
    where = f"fields[{i}]"
    if not isinstance(raw, dict):
        errors.append(f"{where} must be a mapping")
        return None
    unknown = set(raw) - FIELD_KEYS
    if unknown:
        errors.append(f"{where} has unknown keys {sorted(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        errors.append(f"{where}.name must be snake_case, got {name!r}")
        return None
    where = f"field {name!r}"
    ftype = raw.get("type", "text")
    if ftype not in FIELD_TYPES:
        errors.append(f"{where}: type must be one of {FIELD_TYPES}")
        return None
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        errors.append(f"{where}: label is required")
        label = name
    required = raw.get("required", False)
    if not isinstance(required, bool):
        errors.append(f"{where}: required must be true or false")
    help_text = raw.get("help", "") or ""
    if not isinstance(help_text, str):
        errors.append(f"{where}: help must be text")
        help_text = ""
    max_length = raw.get("max_length")
    choices: tuple[str, ...] = ()
    if ftype in MAX_LENGTH_CAP:
        if not isinstance(max_length, int) or not 1 <= max_length <= MAX_LENGTH_CAP[ftype]:
            errors.append(f"{where}: max_length must be an integer 1..{MAX_LENGTH_CAP[ftype]}")
            max_length = None
    elif max_length is not None:
        errors.append(f"{where}: max_length only applies to text and textarea")
    if ftype == "choice":
        raw_choices = raw.get("choices")
        if (not isinstance(raw_choices, list) or not 2 <= len(raw_choices) <= 12
                or not all(isinstance(c, str) and c for c in raw_choices)
                or len(set(raw_choices)) != len(raw_choices)):
            errors.append(f"{where}: choices must be 2..12 distinct strings")
        else:
            choices = tuple(raw_choices)
            max_length = max(len(c) for c in choices)
    elif "choices" in raw:
        errors.append(f"{where}: choices only apply to type choice")
    fmin, fmax = raw.get("min"), raw.get("max")
    if ftype == "number":
        if not isinstance(fmin, int) or not isinstance(fmax, int) or fmin > fmax:
            errors.append(f"{where}: number fields need integer min <= max")
            fmin = fmax = None
    elif fmin is not None or fmax is not None:
        errors.append(f"{where}: min/max only apply to number fields")
    example = raw.get("example")
    if example is None or (isinstance(example, str) and not example.strip()):
        errors.append(f"{where}: example is required")
    f = Field(name=name, label=str(label), type=ftype, required=bool(required), example=example,
              help=help_text, max_length=max_length, choices=choices, min=fmin, max=fmax)
    if example is not None:
        problem = validate_values((f,), {name: example if ftype != "number" else str(example)})
        if problem:
            errors.append(f"{where}: example is invalid: {problem[name]}")
    return f


def _names_in(node: Any) -> list[Any]:
    """Every Name node in ``node``, the node itself included (``find_all`` skips it)."""
    from jinja2 import nodes

    found = [node] if isinstance(node, nodes.Name) else []
    return found + list(node.find_all(nodes.Name))


def _optional_uses_outside_if(prompt: str, optional: set[str]) -> set[str]:
    """Optional fields printed outside an ``{% if field %}`` guard render as blanks."""
    ast = _env.parse(prompt)
    from jinja2 import nodes

    bad: set[str] = set()

    def visit(node: nodes.Node, guarded: frozenset[str]) -> None:
        if isinstance(node, nodes.If):
            names = {n.name for n in _names_in(node.test)}
            visit(node.test, guarded)
            for child in node.body:
                visit(child, guarded | names)
            for child in list(node.elif_) + list(node.else_):
                visit(child, guarded)
            return
        if isinstance(node, nodes.Output):
            for child in node.nodes:
                bad.update(n.name for n in _names_in(child)
                           if n.name in optional and n.name not in guarded)
            return
        for child in node.iter_child_nodes():
            visit(child, guarded)

    visit(ast, frozenset())
    return bad


def parse_template(data: Any, *, source: str, expected_id: str | None = None,
                   expected_category: str | None = None) -> PromptTemplate:
    """Validate one template mapping; raise ``TemplateInvalid`` listing every problem."""
    errors: list[str] = []
    if not isinstance(data, dict):
        raise TemplateInvalid(source, ["the file must hold a YAML mapping"])
    unknown = set(data) - TOP_KEYS
    if unknown:
        errors.append(f"unknown keys {sorted(unknown)}")
    tid = data.get("id")
    if not isinstance(tid, str) or not ID_RE.match(tid) or len(tid) > 80:
        errors.append(f"id must be lowercase-hyphenated, got {tid!r}")
    elif expected_id is not None and tid != expected_id:
        errors.append(f"id {tid!r} must equal the file name {expected_id!r}")
    for key, limit in (("title", 80), ("description", 240)):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip() or len(value) > limit:
            errors.append(f"{key} must be 1..{limit} characters")
    category = data.get("category")
    if not isinstance(category, str) or not ID_RE.match(category):
        errors.append("category must be lowercase-hyphenated")
    elif expected_category is not None and category != expected_category:
        errors.append(f"category {category!r} must equal the folder {expected_category!r}")
    tags = data.get("tags")
    if (not isinstance(tags, list) or not 1 <= len(tags) <= 10
            or not all(isinstance(t, str) and TAG_RE.match(t) for t in tags)):
        errors.append("tags must be a list of 1..10 lowercase tags")
        tags = []
    raw_fields = data.get("fields")
    fields: list[Field] = []
    if not isinstance(raw_fields, list) or not 1 <= len(raw_fields) <= 12:
        errors.append("fields must be a list of 1..12 fields")
    else:
        for i, raw in enumerate(raw_fields):
            f = _check_field(i, raw, errors)
            if f is not None:
                fields.append(f)
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            errors.append("field names must be unique")
        if not any(f.required for f in fields):
            errors.append("at least one field must be required")
    prompt = data.get("prompt")
    if not isinstance(prompt, str) or len(prompt.strip()) < 20 or len(prompt) > 4000:
        errors.append("prompt must be 20..4000 characters")
        prompt = ""
    else:
        try:
            used = meta.find_undeclared_variables(_env.parse(prompt))
        except TemplateSyntaxError as exc:
            errors.append(f"prompt has a Jinja syntax error on line {exc.lineno}: {exc.message}")
            used, prompt = None, ""
        if used is not None:
            declared = {f.name for f in fields}
            if used - declared:
                errors.append(f"prompt uses undeclared placeholders {sorted(used - declared)}")
            if declared - used:
                errors.append(f"declared fields unused by the prompt {sorted(declared - used)}")
            optional = {f.name for f in fields if not f.required}
            unguarded = _optional_uses_outside_if(prompt, optional)
            if unguarded:
                errors.append("optional fields must sit inside {% if name %} blocks: "
                              f"{sorted(unguarded)}")
    output = data.get("output")
    fmt, min_words, max_words, variants = "plain", 0, 0, 0
    if not isinstance(output, dict) or set(output) - OUTPUT_KEYS:
        errors.append(f"output must be a mapping of {sorted(OUTPUT_KEYS)}")
    else:
        fmt = output.get("format", "plain")
        if fmt not in OUTPUT_FORMATS:
            errors.append(f"output.format must be one of {OUTPUT_FORMATS}")
        lo, hi = output.get("min_words"), output.get("max_words")
        if (isinstance(lo, int) and isinstance(hi, int) and 1 <= lo <= hi <= 1500):
            min_words, max_words = lo, hi
        else:
            errors.append("output needs integers 1 <= min_words <= max_words <= 1500")
        variants = output.get("variants", 3)
        if not isinstance(variants, int) or not 1 <= variants <= 5:
            errors.append("output.variants must be 1..5")
            variants = 3
    sampling = data.get("sampling") or {}
    if not isinstance(sampling, dict) or set(sampling) - SAMPLING_KEYS:
        errors.append(f"sampling may only set {sorted(SAMPLING_KEYS)}")
        sampling = {}
    for key, value in sampling.items():
        lo, hi = SAMPLING_BOUNDS[key]
        if not isinstance(value, (int, float)) or not lo <= value <= hi:
            errors.append(f"sampling.{key} must be within {lo}..{hi}")
    samples = data.get("samples")
    if not isinstance(samples, list) or not samples:
        errors.append("samples must list at least one sample input")
        samples = []
    elif prompt and fields:
        for i, sample in enumerate(samples):
            if not isinstance(sample, dict):
                errors.append(f"samples[{i}] must be a mapping")
                continue
            extra = set(sample) - {f.name for f in fields}
            if extra:
                errors.append(f"samples[{i}] sets undeclared fields {sorted(extra)}")
            values = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                      for k, v in sample.items()}
            problems = validate_values(fields, values)
            for name, message in problems.items():
                errors.append(f"samples[{i}].{name}: {message}")
            if not problems:
                try:
                    render_prompt(prompt, {f.name: values.get(f.name, "") for f in fields})
                except (UndefinedError, SecurityError, TypeError) as exc:
                    errors.append(f"samples[{i}] does not render: {exc}")
    sample_output = data.get("sample_output", "")
    if not isinstance(sample_output, str) or not sample_output.strip():
        errors.append("sample_output must be a non-empty example of good output")
        sample_output = ""
    if errors:
        raise TemplateInvalid(source, errors)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    assert isinstance(tid, str) and isinstance(category, str)
    return PromptTemplate(
        id=tid, title=data["title"].strip(), description=data["description"].strip(),
        category=category, tags=tuple(tags), fields=tuple(fields), prompt=prompt,
        output_format=fmt, min_words=min_words, max_words=max_words, variants=variants,
        sampling={k: float(v) for k, v in sampling.items()}, samples=tuple(samples),
        sample_output=sample_output.strip(), content_hash=digest, raw=data,
    )


def load_file(path: Path) -> PromptTemplate:
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise TemplateInvalid(source, ["the file is not UTF-8"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateInvalid(source, [f"YAML error: {exc}"]) from None
    return parse_template(data, source=source, expected_id=path.stem,
                          expected_category=path.parent.name)


def template_files(root: Path) -> list[Path]:
    return sorted(p for p in root.glob("*/*.yaml"))


def load_library(root: Path) -> tuple[list[PromptTemplate], list[TemplateInvalid]]:
    """Every template under ``root``, plus every invalid file (duplicate ids included)."""
    good: list[PromptTemplate] = []
    bad: list[TemplateInvalid] = []
    seen: dict[str, str] = {}
    for path in template_files(root):
        try:
            tpl = load_file(path)
        except TemplateInvalid as exc:
            bad.append(exc)
            continue
        if tpl.id in seen:
            bad.append(TemplateInvalid(str(path), [f"id {tpl.id!r} also used by {seen[tpl.id]}"]))
            continue
        seen[tpl.id] = str(path)
        good.append(tpl)
    return good, bad


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "templates_lib"
    good, bad = load_library(root)
    for exc in bad:
        print(f"INVALID {exc.source}")
        for error in exc.errors:
            print(f"  - {error}")
    categories = {t.category for t in good}
    print(f"templates_lib: {len(good)} valid templates, {len(categories)} categories, "
          f"{len(bad)} invalid")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
