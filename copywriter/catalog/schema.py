"""The prompt-template schema: loading, validation and rendering.

Pure Python (no Django) so that the test suite, the system check and ``manage.py
validate_templates`` run one validator. A template is one YAML file
``templates_lib/<category>/<id>.yaml``.
"""

from __future__ import annotations

import hashlib
import json
import re
import reprlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from copywriter.catalog.slots import check_slots, validate_slots

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
OUTPUT_KEYS = {"format", "min_words", "max_words", "variants", "slots"}
SAMPLING_KEYS = {"temperature", "top_p", "repetition_penalty"}
SAMPLING_BOUNDS = {"temperature": (0.1, 1.5), "top_p": (0.1, 1.0), "repetition_penalty": (1.0, 2.0)}

_env = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False,
                                     keep_trailing_newline=False)

# Prompts are written by anyone who signs up, and the sandbox stops escapes, not work: a loop over
# a field, ``'x' * 300000000`` or a recursive macro cost the web worker (and every later
# generation) unbounded time and memory. So a prompt may only use this small language, whose
# cost is linear in the prompt and the field values: text, ``{{ field }}``, ``if/elif/else``,
# comparisons, and filters that cannot make their input longer than a small factor.
ALLOWED_NODES = (nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Const,
                 nodes.If, nodes.Compare, nodes.Operand, nodes.And, nodes.Or, nodes.Not,
                 nodes.CondExpr, nodes.Filter, nodes.Test, nodes.Concat)
ALLOWED_FILTERS = {"int", "float", "abs", "round", "length", "count", "wordcount", "lower",
                   "upper", "title", "capitalize", "trim", "default", "d"}
NUMERIC_FILTERS = {"int", "float", "abs", "round", "length", "count", "wordcount"}
ALLOWED_TESTS = {"defined", "undefined", "none", "number", "string", "true", "false"}
# What a prompt may render to: every field printed once at its longest (12 x 4,000) fits; the
# built-ins need at most 6,200 characters with every field at its longest.
MAX_RENDERED_CHARS = 50_000
MAX_NESTING = 40


MAX_YAML_DEPTH = 10  # a template is a mapping of lists of mappings: 3 levels deep


class PromptError(ValueError):
    """These values cannot be rendered into this prompt; the message says why."""


class PromptTooLong(PromptError):
    """A render went past ``MAX_RENDERED_CHARS`` (only a template stored before the limit can)."""


_shown = reprlib.Repr()
_shown.maxstring = _shown.maxother = 60
_shown.maxlist = _shown.maxdict = _shown.maxtuple = _shown.maxset = 4
_shown.maxlevel = 2


def shown(value: Any) -> str:
    """``repr`` of a value a user wrote, cut short (and built at bounded cost): an error message
    that echoed it whole let a few hundred bytes of YAML anchors become a response of hundreds of
    megabytes (SECURITY.md, "Template YAML")."""
    return _shown.repr(value)


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
    slots: tuple[dict[str, Any], ...] = ()  # output.slots (docs/slots.md); () for long-form copy

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
    """The prompt for these values; ``PromptError`` when they do not fit it (a comparison of
    text with a number, a result over ``MAX_RENDERED_CHARS``)."""
    # Streamed, so a render that would pass the cap stops there instead of building it whole.
    parts: list[str] = []
    size = 0
    try:
        for chunk in _env.from_string(prompt).generate(**context):
            size += len(chunk)
            if size > MAX_RENDERED_CHARS:
                raise PromptTooLong(f"the prompt would be over {MAX_RENDERED_CHARS:,} characters "
                                    "long")
            parts.append(chunk)
    except (UndefinedError, SecurityError, TypeError, ArithmeticError, RecursionError) as exc:
        raise PromptError(str(exc)[:200]) from None
    except ValueError as exc:
        if isinstance(exc, PromptError):
            raise
        raise PromptError(str(exc)[:200]) from None
    text = "".join(parts)
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
        errors.append(f"{where} has unknown keys {shown(sorted(map(str, unknown)))}")
    name = raw.get("name")
    if not isinstance(name, str) or not NAME_RE.match(name):
        errors.append(f"{where}.name must be snake_case, got {shown(name)}")
        return None
    where = f"field {shown(name)}"
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


_CONSTRUCTS = {
    "For": "{% for %} loops", "Macro": "macros", "CallBlock": "{% call %} blocks",
    "Call": "function calls", "Set": "{% set %}", "AssignBlock": "{% set %}",
    "With": "{% with %}", "FilterBlock": "{% filter %} blocks", "Include": "{% include %}",
    "Import": "{% import %}", "FromImport": "{% from ... import %}", "Extends": "{% extends %}",
    "Block": "{% block %}", "Getattr": "attribute access (a.b)", "Getitem": "indexing (a[b])",
    "Slice": "slices", "List": "lists", "Tuple": "tuples", "Dict": "dicts",
    "Mul": "arithmetic", "Pow": "arithmetic", "Add": "arithmetic", "Sub": "arithmetic",
    "Div": "arithmetic", "FloorDiv": "arithmetic", "Mod": "arithmetic", "Neg": "arithmetic",
    "Pos": "arithmetic", "ExprStmt": "{% do %}", "Scope": "{% scope %}",
}


def _language_errors(ast: nodes.Template) -> list[str]:
    """What the prompt uses outside the bounded prompt language (empty when it is fine)."""
    found: dict[str, None] = {}

    def visit(node: nodes.Node, depth: int) -> None:
        if depth > MAX_NESTING:
            found[f"more than {MAX_NESTING} levels of nesting"] = None
            return
        if not isinstance(node, ALLOWED_NODES):
            name = type(node).__name__
            found[_CONSTRUCTS.get(name, name)] = None
            return
        if isinstance(node, nodes.Name) and node.ctx != "load":
            found["assignments"] = None
        if isinstance(node, nodes.Filter | nodes.Test):
            allowed = ALLOWED_FILTERS if isinstance(node, nodes.Filter) else ALLOWED_TESTS
            kind = "filter" if isinstance(node, nodes.Filter) else "test"
            if node.name not in allowed:
                found[f"the {shown(node.name)} {kind}"] = None
            if (node.kwargs or node.dyn_args or node.dyn_kwargs
                    or not all(isinstance(a, nodes.Const) for a in node.args)):
                found[f"{kind} arguments other than plain values"] = None
        for child in node.iter_child_nodes():
            visit(child, depth + 1)

    visit(ast, 0)
    if not found:
        return []
    return ["prompts may use {{ field }}, {% if %}/{% elif %}/{% else %}, comparisons and the "
            f"filters {', '.join(sorted(ALLOWED_FILTERS))}; this one uses "
            + ", ".join(list(found)[:8])]


def _worst_length(ast: nodes.Template, longest: dict[str, int]) -> int:
    """The most characters the prompt can render to, with every field at its longest (every
    branch counted, so an over-estimate)."""

    def size(node: nodes.Node) -> int:
        if isinstance(node, nodes.TemplateData):
            return len(node.data)
        if isinstance(node, nodes.Const):
            return len(str(node.value))
        if isinstance(node, nodes.Name):
            return longest.get(node.name, 0)
        if isinstance(node, nodes.Filter):
            inner = size(node.node) if node.node is not None else 0
            if node.name in NUMERIC_FILTERS:
                return max(32, inner)
            if node.name in ("default", "d"):
                return max([inner] + [size(a) for a in node.args])
            return 3 * inner  # case mapping can triple a character ("\ufb03".upper() == "FFI")
        if isinstance(node, nodes.CondExpr):
            return max(size(node.expr1), size(node.expr2) if node.expr2 is not None else 0)
        if isinstance(node, nodes.Concat):
            return sum(size(n) for n in node.nodes)
        if isinstance(node, nodes.And | nodes.Or):
            return max(size(node.left), size(node.right))
        return 5  # a comparison or test prints True or False

    return sum(size(child) for out in ast.find_all(nodes.Output) for child in out.nodes)


def _longest_value(f: Field) -> int:
    if f.type == "number":
        return max(len(str(f.min)), len(str(f.max)))
    return f.max_length or 0


def parse_template(data: Any, *, source: str, expected_id: str | None = None,
                   expected_category: str | None = None, check_sample: bool = True) -> PromptTemplate:
    """Validate one template mapping; raise ``TemplateInvalid`` listing every problem.

    ``check_sample``: the sample output must satisfy the template's slots. An authoring rule
    (files, the template editor, restores); a version already stored is read without it."""
    if not isinstance(data, dict):
        raise TemplateInvalid(source, ["the file must hold a YAML mapping"])
    # Every section is checked even after one fails, so that the author sees every problem at
    # once; a section that failed hands the later ones an empty value.
    errors: list[str] = []
    tid, category, tags = _check_header(data, errors, expected_id=expected_id,
                                         expected_category=expected_category)
    fields = _check_fields(data.get("fields"), errors)
    prompt = _check_prompt(data.get("prompt"), fields, errors)
    output = _check_output(data.get("output"), fields, errors)
    sampling = _check_sampling(data.get("sampling") or {}, errors)
    samples = _check_samples(data.get("samples"), prompt, fields, errors)
    sample_output = _check_sample_output(data.get("sample_output", ""), output.slots, samples,
                                         errors, check_sample=check_sample)
    if errors:
        raise TemplateInvalid(source, errors)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()
    assert isinstance(tid, str) and isinstance(category, str)
    return PromptTemplate(
        id=tid, title=data["title"].strip(), description=data["description"].strip(),
        category=category, tags=tuple(tags), fields=tuple(fields), prompt=prompt,
        output_format=output.format, min_words=output.min_words, max_words=output.max_words,
        variants=output.variants, sampling={k: float(v) for k, v in sampling.items()},
        samples=tuple(samples), sample_output=sample_output.strip(), content_hash=digest,
        raw=data, slots=output.slots,
    )


def _check_header(data: dict[str, Any], errors: list[str], *, expected_id: str | None,
                   expected_category: str | None) -> tuple[Any, Any, list[Any]]:
    """Unknown keys, id, title, description, category and tags: (id, category, tags)."""
    unknown = set(data) - TOP_KEYS
    if unknown:
        errors.append(f"unknown keys {shown(sorted(map(str, unknown)))}")
    tid = data.get("id")
    if not isinstance(tid, str) or not ID_RE.match(tid) or len(tid) > 80:
        errors.append(f"id must be lowercase-hyphenated, got {shown(tid)}")
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
        errors.append(f"category {shown(category)} must equal the folder {expected_category!r}")
    tags = data.get("tags")
    if (not isinstance(tags, list) or not 1 <= len(tags) <= 10
            or not all(isinstance(t, str) and TAG_RE.match(t) for t in tags)):
        errors.append("tags must be a list of 1..10 lowercase tags")
        tags = []
    return tid, category, tags


def _check_fields(raw_fields: Any, errors: list[str]) -> list[Field]:
    """The fields that are valid ([] when the list itself is not)."""
    fields: list[Field] = []
    if not isinstance(raw_fields, list) or not 1 <= len(raw_fields) <= 12:
        errors.append("fields must be a list of 1..12 fields")
        return fields
    for i, raw in enumerate(raw_fields):
        f = _check_field(i, raw, errors)
        if f is not None:
            fields.append(f)
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        errors.append("field names must be unique")
    if not any(f.required for f in fields):
        errors.append("at least one field must be required")
    return fields


def _check_prompt(prompt: Any, fields: list[Field], errors: list[str]) -> str:
    """The prompt, or "" when it cannot be used (then no sample is rendered with it)."""
    if not isinstance(prompt, str) or len(prompt.strip()) < 20 or len(prompt) > 4000:
        errors.append("prompt must be 20..4000 characters")
        return ""
    try:
        ast = _env.parse(prompt)
    except TemplateSyntaxError as exc:
        errors.append(f"prompt has a Jinja syntax error on line {exc.lineno}: "
                      f"{(exc.message or '')[:200]}")
        return ""
    except RecursionError:
        errors.append("prompt is nested too deeply")
        return ""
    # Before anything compiles it: Jinja's compiler folds constants, so compiling
    # ``'x' * 300000000`` or ``10 ** 5000`` is the attack itself.
    language = _language_errors(ast)
    if language:
        errors.extend(language)
        return ""
    used = meta.find_undeclared_variables(ast)
    worst = _worst_length(ast, {f.name: _longest_value(f) for f in fields})
    if worst > MAX_RENDERED_CHARS:
        errors.append(f"prompt can render to {worst:,} characters with the longest "
                      f"field values; the limit is {MAX_RENDERED_CHARS:,}")
        return ""
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
    return prompt


@dataclass(frozen=True)
class _Output:
    format: str = "plain"
    min_words: int = 0
    max_words: int = 0
    variants: int = 0
    slots: tuple[dict[str, Any], ...] = ()


def _check_output(output: Any, fields: list[Field], errors: list[str]) -> _Output:
    """Format, word bounds, variants and slots."""
    if not isinstance(output, dict) or set(output) - OUTPUT_KEYS:
        errors.append(f"output must be a mapping of {sorted(OUTPUT_KEYS)}")
        return _Output()
    min_words, max_words = 0, 0
    slots: tuple[dict[str, Any], ...] = ()
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
    if "slots" in output:
        slot_errors = validate_slots(output["slots"], {f.name: f for f in fields})
        errors += slot_errors
        if not slot_errors:
            slots = tuple(dict(s) for s in output["slots"])
    return _Output(fmt, min_words, max_words, variants, slots)


def _check_sampling(sampling: Any, errors: list[str]) -> dict[str, Any]:
    if not isinstance(sampling, dict) or set(sampling) - SAMPLING_KEYS:
        errors.append(f"sampling may only set {sorted(SAMPLING_KEYS)}")
        return {}
    for key, value in sampling.items():
        lo, hi = SAMPLING_BOUNDS[key]
        if not isinstance(value, (int, float)) or not lo <= value <= hi:
            errors.append(f"sampling.{key} must be within {lo}..{hi}")
    return sampling


def _check_samples(samples: Any, prompt: str, fields: list[Field], errors: list[str]) -> list[Any]:
    """Each sample input must be valid for the fields and render (when the prompt and fields
    are usable)."""
    if not isinstance(samples, list) or not samples:
        errors.append("samples must list at least one sample input")
        return []
    if not (prompt and fields):
        return samples
    for i, sample in enumerate(samples):
        if not isinstance(sample, dict):
            errors.append(f"samples[{i}] must be a mapping")
            continue
        extra = set(sample) - {f.name for f in fields}
        if extra:
            errors.append(f"samples[{i}] sets undeclared fields {shown(sorted(map(str, extra)))}")
        values = {k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                  for k, v in sample.items()}
        problems = validate_values(fields, values)
        for name, message in problems.items():
            errors.append(f"samples[{i}].{name}: {message}")
        if not problems:
            try:
                render_prompt(prompt, {f.name: values.get(f.name, "") for f in fields})
            except PromptError as exc:
                errors.append(f"samples[{i}] does not render: {str(exc)[:200]}")
    return samples


def _check_sample_output(sample_output: Any, slots: tuple[dict[str, Any], ...],
                         samples: list[Any], errors: list[str], *, check_sample: bool) -> str:
    """A non-empty example of good output; with slots (and ``check_sample``), one that keeps
    them for the first sample."""
    if not isinstance(sample_output, str) or not sample_output.strip():
        errors.append("sample_output must be a non-empty example of good output")
        return ""
    if check_sample and slots and samples and isinstance(samples[0], dict):
        try:
            read = check_slots(sample_output, slots, {k: str(v) for k, v in samples[0].items()})
        except (ValueError, TypeError) as exc:
            errors.append(f"output.slots cannot be applied to samples[0]: {exc}")
        else:
            errors += [f"sample_output breaks its slots: {f}" for f in read.failures[:5]]
    return sample_output


def load_user_yaml(text: str, *, source: str = "your template") -> Any:
    """``yaml.safe_load`` for YAML a user typed, refusing what costs more than its size.

    Anchors and aliases are refused (398 bytes of nested aliases expand to gigabytes), and so is
    nesting deeper than ``MAX_YAML_DEPTH`` (PyYAML builds nodes recursively; 900 levels were a
    RecursionError). The events are read first, by PyYAML's non-recursive parser.
    """
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise TemplateInvalid(source, ["YAML anchors and aliases (&name, *name) are not "
                                               "allowed in templates; write the value out."])
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    raise TemplateInvalid(source, [f"the YAML is nested more than "
                                                   f"{MAX_YAML_DEPTH} levels deep"])
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TemplateInvalid(source, [f"YAML error: {str(exc)[:500]}"]) from None


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
