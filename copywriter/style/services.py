"""House style: the workspace's rules (owners edit, members read), the one checker
(``check_text``), a document version's findings (``document_findings``, which approval can
require to be clean) and the one-click fixes (through documents' own save service)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from copywriter.audit import services as audit
from copywriter.catalog.models import Template
from copywriter.core.errors import UserError
from copywriter.documents import services as document_services
from copywriter.documents.models import Document, DocumentVersion, VersionKind
from copywriter.style import check
from copywriter.style.check import Finding, Rules
from copywriter.style.models import (
    Exclamations,
    HeadlineCase,
    Numbers,
    OxfordComma,
    Spelling,
    StyleRules,
)
from copywriter.workspaces.models import Membership

__all__ = ["Finding", "Rules", "StyleError", "apply_fixes", "blocking", "check_text", "clean_rules",
           "document_findings", "document_fix", "rules_for", "rules_save", "rules_to_dict"]

MAX_TERMS = 200
TERM_MAX = 80
REASON_MAX = 200
DISCLAIMER_MAX = 500
MAX_DISCLAIMERS = 50
MAX_REWRITES = 5
GRADE_RANGE = (1, 20)
FIELDS = ("banned", "preferred", "spelling", "oxford_comma", "headline_case", "numbers",
          "exclamations", "max_grade", "disclaimers", "generic", "max_rewrites")


class StyleError(UserError):
    pass


# --- rules -------------------------------------------------------------------------------------

def as_rules(row: StyleRules | None) -> Rules:
    if row is None:
        return Rules()
    return Rules(banned=tuple(row.banned), preferred=tuple(row.preferred), spelling=row.spelling,
                 oxford_comma=row.oxford_comma, headline_case=row.headline_case,
                 numbers=row.numbers, exclamations=row.exclamations, max_grade=row.max_grade,
                 disclaimers=tuple(row.disclaimers), generic=row.generic,
                 max_rewrites=row.max_rewrites)


def rules_for(*, workspace_id: int) -> Rules:
    """The workspace's rules; the defaults when its owners have set none."""
    return as_rules(StyleRules.objects.filter(workspace_id=workspace_id).first())


def rules_of_workspaces(workspace_ids: set[int]) -> dict[int, Rules]:
    rows = {r.workspace_id: r for r in StyleRules.objects.filter(workspace_id__in=workspace_ids)}
    return {w: as_rules(rows.get(w)) for w in workspace_ids}


def rules_to_dict(rules: Rules) -> dict[str, Any]:
    return {"banned": [dict(b) for b in rules.banned],
            "preferred": [dict(p) for p in rules.preferred], "spelling": rules.spelling,
            "oxford_comma": rules.oxford_comma, "headline_case": rules.headline_case,
            "numbers": rules.numbers, "exclamations": rules.exclamations,
            "max_grade": rules.max_grade, "disclaimers": [dict(d) for d in rules.disclaimers],
            "generic": rules.generic, "max_rewrites": rules.max_rewrites}


def categories() -> list[str]:
    """The template categories required disclaimers are set for: the template library's folders
    (each is a category, synced or not yet) and any category in the catalog."""
    library = settings.TEMPLATES_LIB_DIR
    folders = {p.name for p in library.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))} \
        if library.is_dir() else set()
    return sorted(folders | set(Template.objects.values_list("category", flat=True).distinct()))


def _text(value: Any, where: str, limit: int, errors: dict[str, str], *, words: bool = True) -> str:
    if not isinstance(value, str):
        errors[where] = "Must be text."
        return ""
    value = " ".join(value.replace("\x00", "").split())
    if not value:
        errors[where] = "Must not be empty."
    elif len(value) > limit:
        errors[where] = f"At most {limit} characters ({len(value)} given)."
    elif words and not check.words_of(value):
        errors[where] = "Must contain a word (letters or digits)."
    return value


def _items(value: Any, name: str, keys: tuple[str, ...], limit: int,
           errors: dict[str, str]) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        errors[name] = "Must be a list."
        return []
    if len(value) > limit:
        errors[name] = f"At most {limit} entries ({len(value)} given)."
        return []
    out = []
    for i, item in enumerate(value):
        if not isinstance(item, dict) or set(item) - set(keys):
            errors[f"{name}[{i}]"] = f"Each entry is an object with {', '.join(keys)}."
            continue
        out.append(item)
    return out


def _choice(value: Any, name: str, choices: list[str], errors: dict[str, str]) -> str:
    value = "" if value is None else value
    if value not in choices:
        shown = ", ".join(repr(c) for c in choices)
        errors[name] = f"Choose one of {shown}."
        return choices[0]
    return str(value)


def clean_rules(data: dict[str, Any], *, partial: bool = False, current: Rules | None = None,
                known_categories: set[str] | None = None) -> dict[str, Any]:
    """The rules as they are stored, or ``StyleError`` with a message per field. ``partial``:
    fields left out keep their ``current`` value. ``known_categories``: the template categories
    a disclaimer may name (the catalog's, by default)."""
    if not isinstance(data, dict):
        raise StyleError("The rules must be an object.")
    unknown = sorted(set(data) - set(FIELDS))
    errors: dict[str, str] = {k: "Not a house style rule." for k in unknown}
    base = rules_to_dict(current or Rules())
    data = {**(base if partial else rules_to_dict(Rules())), **data}
    out: dict[str, Any] = {}

    banned, seen = [], set()
    for i, item in enumerate(_items(data.get("banned"), "banned", ("term", "reason"), MAX_TERMS, errors)):
        term = _text(item.get("term"), f"banned[{i}].term", TERM_MAX, errors)
        reason = _text(item.get("reason") or "", f"banned[{i}].reason", REASON_MAX, errors,
                       words=False) if item.get("reason") else ""
        key = tuple(check.words_of(term))
        if key and key in seen:
            errors[f"banned[{i}].term"] = f"\u201c{term}\u201d is listed twice."
        seen.add(key)
        banned.append({"term": term, "reason": reason})
    out["banned"] = banned

    preferred, seen = [], set()
    for i, item in enumerate(_items(data.get("preferred"), "preferred", ("use", "instead_of"),
                                    MAX_TERMS, errors)):
        use = _text(item.get("use"), f"preferred[{i}].use", TERM_MAX, errors)
        instead = _text(item.get("instead_of"), f"preferred[{i}].instead_of", TERM_MAX, errors)
        key = tuple(check.words_of(instead))
        if use and instead and use == instead:
            errors[f"preferred[{i}].use"] = "The preferred term is the same as the one it replaces."
        elif key and key in seen:
            errors[f"preferred[{i}].instead_of"] = f"\u201c{instead}\u201d is listed twice."
        elif key and key in {tuple(check.words_of(b["term"])) for b in banned}:
            errors[f"preferred[{i}].instead_of"] = (f"\u201c{instead}\u201d is also banned; keep it "
                                                    "in one list.")
        seen.add(key)
        preferred.append({"use": use, "instead_of": instead})
    out["preferred"] = preferred

    out["spelling"] = _choice(data.get("spelling"), "spelling", list(Spelling.values), errors)
    out["oxford_comma"] = _choice(data.get("oxford_comma"), "oxford_comma",
                                  list(OxfordComma.values), errors)
    out["headline_case"] = _choice(data.get("headline_case"), "headline_case",
                                   list(HeadlineCase.values), errors)
    out["numbers"] = _choice(data.get("numbers"), "numbers", list(Numbers.values), errors)
    out["exclamations"] = _choice(data.get("exclamations") or "any", "exclamations",
                                  list(Exclamations.values), errors)

    grade = data.get("max_grade")
    if grade in (None, ""):
        out["max_grade"] = None
    elif isinstance(grade, bool) or not isinstance(grade, int | str) or not str(grade).isdigit() \
            or not GRADE_RANGE[0] <= int(grade) <= GRADE_RANGE[1]:
        errors["max_grade"] = (f"A school grade from {GRADE_RANGE[0]} to {GRADE_RANGE[1]}, or empty "
                               "for no ceiling.")
        out["max_grade"] = None
    else:
        out["max_grade"] = int(grade)

    known = set(categories()) if known_categories is None else known_categories
    disclaimers = []
    for i, item in enumerate(_items(data.get("disclaimers"), "disclaimers", ("category", "text"),
                                    MAX_DISCLAIMERS, errors)):
        category = item.get("category")
        if not isinstance(category, str) or category not in known:
            shown = str(category)[:40]
            errors[f"disclaimers[{i}].category"] = (f"\u201c{shown}\u201d is not a template category; "
                                                    f"choose one of: {', '.join(sorted(known))}.")
        text = _text(item.get("text"), f"disclaimers[{i}].text", DISCLAIMER_MAX, errors)
        disclaimers.append({"category": category, "text": text})
    out["disclaimers"] = disclaimers

    generic = data.get("generic", True)
    if not isinstance(generic, bool):
        errors["generic"] = "Must be true or false."
    out["generic"] = bool(generic) if isinstance(generic, bool) else True

    rewrites = data.get("max_rewrites", 2)
    if isinstance(rewrites, bool) or not isinstance(rewrites, int | str) \
            or not str(rewrites).isdigit() or int(rewrites) > MAX_REWRITES:
        errors["max_rewrites"] = f"A whole number from 0 to {MAX_REWRITES}."
        out["max_rewrites"] = 2
    else:
        out["max_rewrites"] = int(rewrites)

    if errors:
        first = next(iter(errors.items()))
        raise StyleError(f"{first[0]}: {first[1]}" if len(errors) == 1
                         else f"{len(errors)} rules need fixing; first, {first[0]}: {first[1]}",
                         field_errors=errors)
    return out


def rules_save(*, membership: Membership, data: dict[str, Any], partial: bool = False) -> Rules:
    """Owners only. Records ``style.rules_changed`` with the fields that changed."""
    if not membership.is_owner:
        raise PermissionDenied("Only the workspace's owners change its house style.")
    with transaction.atomic():
        row, _ = StyleRules.objects.select_for_update().get_or_create(
            workspace_id=membership.workspace_id)
        before = rules_to_dict(as_rules(row))
        cleaned = clean_rules(data, partial=partial, current=as_rules(row))
        changed = sorted(k for k in FIELDS if before[k] != cleaned[k])
        if changed:
            for key, value in cleaned.items():
                setattr(row, key, value)
            row.updated_at, row.updated_by = timezone.now(), membership.user
            row.save()
            audit.record(workspace=membership.workspace, actor=membership.user,
                         action="style.rules_changed", target=row,
                         summary=f"changed the house style: {', '.join(changed)}",
                         details={"changed": changed,
                                  "old": {k: before[k] for k in changed},
                                  "new": {k: cleaned[k] for k in changed}})
    return as_rules(row)


# --- checking ----------------------------------------------------------------------------------

def check_text(rules: Rules | StyleRules | None, text: str, *, category: str | None = None,
               headlines: list[tuple[int, int]] | None = None) -> list[Finding]:
    """Every finding of the rules in ``text``, in text order (no model: fast, any input).
    ``category``: the template category (for required disclaimers); ``headlines``: (start, end)
    spans that are headlines besides the text's markdown headings."""
    if not isinstance(rules, Rules):
        rules = as_rules(rules)
    return check.check(rules, text, category=category, headlines=headlines)


def apply_fixes(text: str, findings: list[Finding]) -> tuple[str, int]:
    """``text`` with the mechanical fixes of ``findings`` applied, and how many were."""
    return check.apply(text, findings)


def document_findings(version: DocumentVersion) -> list[Finding]:
    """A document version's findings under its workspace's current rules (the workflow's
    "approval requires a clean style check" asks whether this is empty)."""
    document = version.document
    return check_text(rules_for(workspace_id=document.workspace_id), version.body)


def blocking(findings: list[Finding]) -> list[Finding]:
    """The findings of the workspace's own rules: what "approval requires a clean style check"
    should hold a document to. proselint's generic findings are advice and are left out."""
    return [f for f in findings if not f.rule.startswith("generic:")]


def headline_spans(text: str, slots: dict[str, list[str]] | None) -> list[tuple[int, int]]:
    """The spans of a slot template's headline items (one item a line, in slot order) in
    ``text``: slots named like headline, title or subject."""
    if not slots:
        return []
    spans, at = [], 0
    for name, items in slots.items():
        for item in items if isinstance(items, list) else []:
            item = str(item)
            found = text.find(item, at)
            if found < 0:
                continue
            at = found + len(item)
            if any(k in name.lower() for k in ("headline", "title", "subject")):
                spans.append((found, found + len(item)))
    return spans


@dataclass(frozen=True)
class FixResult:
    document: Document
    version: DocumentVersion
    conflict: bool
    applied: int


def pick(findings: list[Finding], *, which: str, rule: str = "", start: int = -1,
         end: int = -1) -> list[Finding]:
    """The findings a fix request names: "all" mechanical ones, or the one with this rule and
    span. ``StyleError`` when that one is gone (the text or the rules changed meanwhile)."""
    if which == "all":
        chosen = [f for f in findings if f.replacement is not None]
    else:
        chosen = [f for f in findings if f.replacement is not None and f.rule == rule
                  and f.start == start and f.end == end]
    if not chosen:
        raise StyleError("That fix no longer applies: the text or the house style changed. The "
                         "findings were checked again.", status=409)
    return chosen[:1] if which != "all" else chosen


def document_fix(*, membership: Membership, document: Document, base_number: int, which: str,
                 rule: str = "", start: int = -1, end: int = -1) -> FixResult:
    """Apply one fix (or all mechanical ones) to the version ``base_number`` and save the result
    through documents' save service: a new version, or, when someone saved meanwhile, a
    conflict copy that keeps the fixed text (nothing is overwritten)."""
    if not membership.can_write:
        raise PermissionDenied("Viewers cannot change documents.")
    version = DocumentVersion.objects.filter(document=document, number=base_number).first()
    if version is None:
        raise StyleError(f"Version {base_number} of this document does not exist.", status=404)
    findings = document_findings(version)
    fixed, applied = apply_fixes(version.body, pick(findings, which=which, rule=rule, start=start,
                                                    end=end))
    result = document_services.document_save(
        membership=membership, document_id=document.pk, title=version.title, body=fixed,
        base_number=base_number, kind=VersionKind.EDIT)
    return FixResult(result.document, result.version, result.conflict, applied)
