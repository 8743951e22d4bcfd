"""House style pages: the workspace's rules (members read, owners edit) and the findings panels
loaded by URL into a document's page and a generation's page (GET: viewers may look; the fixes
are editors')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.core.errors import UserError
from copywriter.documents import selectors as document_selectors
from copywriter.documents import services as document_services
from copywriter.documents.models import VersionKind
from copywriter.generation import selectors as generation_selectors
from copywriter.generation.models import Variant
from copywriter.style import services
from copywriter.style.models import Exclamations, HeadlineCase, Numbers, OxfordComma, Spelling
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.models import Role
from copywriter.workspaces.types import MemberRequest

MAX_SHOWN = 200  # findings listed in a panel; the count says how many there are


@dataclass
class Part:
    text: str
    findings: list[services.Finding]


def highlight(text: str, findings: list[services.Finding]) -> list[Part]:
    """The text cut at the findings' spans, each marked part with the findings that cover it
    (a finding that overlaps one already marked joins its mark). Zero-width and whole-text
    findings (a missing disclaimer, the reading grade) are listed, not marked."""
    parts: list[Part] = []
    at = 0
    for f in sorted(findings, key=lambda f: (f.start, -f.end)):
        if f.start == f.end or (f.start == 0 and f.end == len(text) and f.rule == "reading_grade"):
            continue
        if f.start < at:
            if parts and parts[-1].findings:
                parts[-1].findings.append(f)
            continue
        if f.start > at:
            parts.append(Part(text[at:f.start], []))
        parts.append(Part(text[f.start:f.end], [f]))
        at = f.end
    if at < len(text):
        parts.append(Part(text[at:], []))
    return parts


def _context(text: str, findings: list[services.Finding]) -> dict[str, Any]:
    return {"parts": highlight(text, findings), "findings": findings[:MAX_SHOWN],
            "count": len(findings), "fixable": sum(1 for f in findings if f.replacement is not None),
            "banned": sum(1 for f in findings if f.rule == "banned")}


# --- the rules ---------------------------------------------------------------------------------

def _lines(raw: str) -> list[str]:
    return [line.strip() for line in (raw or "").replace("\r\n", "\n").split("\n") if line.strip()]


def _split(line: str, seps: tuple[str, ...]) -> tuple[str, str] | None:
    for sep in seps:
        if sep in line:
            left, right = line.split(sep, 1)
            return left.strip(), right.strip()
    return None


def rules_from_form(post: Any) -> dict[str, Any]:
    """The rules form (one entry a line) as the dict ``services.clean_rules`` reads."""
    errors: dict[str, str] = {}
    banned = []
    for line in _lines(post.get("banned", "")):
        term, reason = _split(line, ("|",)) or (line, "")
        banned.append({"term": term, "reason": reason})
    preferred = []
    for n, line in enumerate(_lines(post.get("preferred", "")), 1):
        pair = _split(line, ("->", "\u2192", "=>"))
        if pair is None:
            errors["preferred"] = f"Line {n} (\u201c{line[:40]}\u201d): write \u201cinstead of -> use\u201d."
            continue
        preferred.append({"instead_of": pair[0], "use": pair[1]})
    disclaimers = []
    for n, line in enumerate(_lines(post.get("disclaimers", "")), 1):
        pair = _split(line, (":",))
        if pair is None:
            errors["disclaimers"] = (f"Line {n} (\u201c{line[:40]}\u201d): write "
                                     "\u201ccategory: disclaimer\u201d.")
            continue
        disclaimers.append({"category": pair[0], "text": pair[1]})
    if errors:
        raise services.StyleError(next(iter(errors.values())), field_errors=errors)
    return {"banned": banned, "preferred": preferred, "disclaimers": disclaimers,
            "spelling": post.get("spelling", ""), "oxford_comma": post.get("oxford_comma", ""),
            "headline_case": post.get("headline_case", ""), "numbers": post.get("numbers", ""),
            "exclamations": post.get("exclamations", "any"),
            "max_grade": (post.get("max_grade") or "").strip() or None,
            "generic": post.get("generic") == "on",
            "max_rewrites": (post.get("max_rewrites") or "").strip() or "0"}


def _form_values(rules: services.Rules) -> dict[str, Any]:
    return {"banned": "\n".join(f"{b['term']} | {b['reason']}" if b.get("reason") else b["term"]
                                for b in rules.banned),
            "preferred": "\n".join(f"{p['instead_of']} -> {p['use']}" for p in rules.preferred),
            "disclaimers": "\n".join(f"{d['category']}: {d['text']}" for d in rules.disclaimers),
            "spelling": rules.spelling, "oxford_comma": rules.oxford_comma,
            "headline_case": rules.headline_case, "numbers": rules.numbers,
            "exclamations": rules.exclamations, "max_grade": rules.max_grade or "",
            "generic": rules.generic, "max_rewrites": rules.max_rewrites}


CHOICES = {"spelling": ("Spelling", Spelling.choices),
           "oxford_comma": ("Oxford comma", OxfordComma.choices),
           "headline_case": ("Headline case", HeadlineCase.choices),
           "numbers": ("Numbers", Numbers.choices),
           "exclamations": ("Exclamation marks", Exclamations.choices)}


@workspace_member(write_methods_need=Role.OWNER)
@require_http_methods(["GET", "POST"])
def rules(request: MemberRequest) -> HttpResponse:
    m = request.membership
    current = services.rules_for(workspace_id=m.workspace_id)
    values, errors, error, status = _form_values(current), {}, "", 200
    sample = request.GET.get("sample", "")[:5000]
    if request.method == "POST":
        try:
            services.rules_save(membership=m, data=rules_from_form(request.POST))
        except UserError as exc:
            # Keep what the owner typed: the form shows it again with the errors.
            values = {**{k: request.POST.get(k, "") for k in values},
                      "generic": request.POST.get("generic") == "on"}
            errors, error, status = exc.field_errors, exc.message, 400
        else:
            messages.success(request, "House style saved.")
            return redirect("style:rules", ws=m.workspace_id)
    context: dict[str, Any] = {
        "values": values, "errors": errors, "error": error, "choices": CHOICES,
        "selects": [(name, label, options, values[name]) for name, (label, options) in CHOICES.items()],
        "categories": services.categories(), "nav": "style", "sample": sample,
        "can_edit": m.is_owner}
    if sample:
        context.update(_context(sample, services.check_text(current, sample)))
    return render(request, "style/rules.html", context, status=status)


# --- the document panel ----------------------------------------------------------------------

def _document_panel(request: MemberRequest, document_id: int, *, notice: str = "",
                    error: str = "", status: int = 200) -> HttpResponse:
    ws = request.membership.workspace_id
    doc = document_selectors.document_get(workspace_id=ws, document_id=document_id)
    head = document_selectors.head_version(document=doc)
    findings = services.document_findings(head)
    context = {**_context(head.body, findings), "doc": doc, "version": head, "notice": notice,
               "error": error, "nav": "documents",
               "panel_url": reverse("style:document_panel", args=[ws, doc.pk]),
               "fix_url": reverse("style:document_fix", args=[ws, doc.pk])}
    name = "style/document_panel.html#panel" if request.htmx else "style/document_panel.html"
    return render(request, name, context, status=status)


@workspace_member()
@require_GET
def document_panel(request: MemberRequest, document_id: int) -> HttpResponse:
    return _document_panel(request, document_id)


def _int(value: Any, default: int = -1) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@workspace_member()
@require_POST
def document_fix(request: MemberRequest, document_id: int) -> HttpResponse:
    m = request.membership
    doc = document_selectors.document_get(workspace_id=m.workspace_id, document_id=document_id)
    try:
        result = services.document_fix(
            membership=m, document=doc, base_number=_int(request.POST.get("base_number")),
            which="all" if request.POST.get("fix") == "all" else "one",
            rule=request.POST.get("rule", ""), start=_int(request.POST.get("start")),
            end=_int(request.POST.get("end")))
    except UserError as exc:
        return _document_panel(request, document_id, error=exc.message, status=exc.status)
    if result.conflict:
        error = (f"Someone saved this document meanwhile, so the fixed text was kept as version "
                 f"{result.version.number} (a conflict copy) instead of replacing theirs: open "
                 "its history to compare.")
        return _document_panel(request, document_id, error=error, status=409)
    notice = (f"Applied {result.applied} fix{'es' if result.applied != 1 else ''}: saved as "
              f"version {result.version.number}. Reload the editor to see it.")
    if not request.htmx:
        messages.success(request, notice)
        return redirect("documents:edit", ws=m.workspace_id, document_id=doc.pk)
    return _document_panel(request, document_id, notice=notice)


# --- the variant panel -----------------------------------------------------------------------

def _variant(request: MemberRequest, generation_id: int, index: int) -> Variant:
    return generation_selectors.variant_get(workspace_id=request.membership.workspace_id,
                                            generation_id=generation_id, index=index)


@workspace_member()
@require_GET
def variant_panel(request: MemberRequest, generation_id: int, index: int) -> HttpResponse:
    """The variant's findings under the workspace's current rules, its stored report's verdict
    (rewrites, flagged), and on ``?fix=...`` a copy of the text with fixes applied, for saving
    as a new document: the stored variant itself never changes."""
    v = _variant(request, generation_id, index)
    gen = v.generation
    ws = request.membership.workspace_id
    rules = services.rules_for(workspace_id=ws)
    findings = services.check_text(rules, v.text, category=gen.template.category,
                                   headlines=services.headline_spans(v.text, v.slots))
    fixed, applied, error = "", 0, ""
    which = request.GET.get("fix", "")
    if which:
        try:
            chosen = services.pick(findings, which="all" if which == "all" else "one",
                                   rule=request.GET.get("rule", ""),
                                   start=_int(request.GET.get("start")),
                                   end=_int(request.GET.get("end")))
            fixed, applied = services.apply_fixes(v.text, chosen)
        except UserError as exc:
            error = exc.message
    context = {**_context(v.text, findings), "v": v, "gen": gen, "report": v.style or {},
               "fixed": fixed, "applied": applied, "error": error, "nav": "generate",
               "panel_id": f"style-variant-{v.index}",
               "panel_url": reverse("style:variant_panel", args=[ws, gen.pk, v.index]),
               "save_url": reverse("style:variant_save", args=[ws, gen.pk, v.index])}
    name = "style/variant_panel.html#panel" if request.htmx else "style/variant_panel.html"
    return render(request, name, context)


@workspace_member()
@require_POST
def variant_save(request: MemberRequest, generation_id: int, index: int) -> HttpResponse:
    """The fixed copy of a variant (as shown, possibly edited) saved as a new document."""
    v = _variant(request, generation_id, index)
    if not request.membership.can_write:
        raise PermissionDenied
    text = request.POST.get("text", "")
    if not text.strip():
        messages.error(request, "There was no text to save.")
        return redirect("generation:detail", ws=request.membership.workspace_id, generation_id=generation_id)
    try:
        doc = document_services.document_create(
            membership=request.membership, title=f"{v.generation.template.title} (house style)",
            body=text, kind=VersionKind.GENERATION)
    except UserError as exc:
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain")
    messages.success(request, "Saved the fixed text to a new document.")
    return redirect("documents:edit", ws=request.membership.workspace_id, document_id=doc.pk)
