from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.facts import selectors, services
from copywriter.facts.models import FactSheet, Kind
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.types import MemberRequest

# Fields of the generate form that are not the brief (suggestions read the rest).
NOT_BRIEF = {"csrfmiddlewaretoken", "tone", "variants", "length", "fact_sheets", "again"}


def _form_values(request: MemberRequest) -> dict[str, Any]:
    return {"name": request.POST.get("name", ""), "kind": request.POST.get("kind", Kind.PRODUCT),
            "facts": request.POST.get("facts", ""), "approved": request.POST.get("approved", ""),
            "banned": request.POST.get("banned", "")}


def _values_of(version: Any) -> dict[str, Any]:
    return {"name": version.name, "kind": version.kind, "facts": "\n".join(version.facts),
            "approved": "\n".join(version.approved), "banned": "\n".join(version.banned)}


@workspace_member()
@require_GET
def sheet_list(request: MemberRequest) -> HttpResponse:
    ws = request.membership.workspace_id
    archived = request.GET.get("archived") == "1"
    sheets = selectors.sheets_for_workspace(workspace_id=ws, archived=archived)
    return render(request, "facts/list.html", {"sheets": sheets, "archived": archived,
                                               "nav": "facts"})


@workspace_member()
@require_http_methods(["GET", "POST"])
def create(request: MemberRequest) -> HttpResponse:
    values: dict[str, Any] = {"name": "", "kind": Kind.PRODUCT, "facts": "", "approved": "",
                              "banned": ""}
    error, field_errors, status = "", {}, 200
    if request.method == "POST":
        values = _form_values(request)
        try:
            sheet = services.fact_sheet_create(membership=request.membership, **values)
        except services.FactsError as exc:
            error, field_errors, status = exc.message, exc.field_errors, exc.status
        else:
            messages.success(request, f"Saved \u201c{sheet.name}\u201d (version 1).")
            return redirect("facts:edit", ws=request.membership.workspace_id, sheet_id=sheet.pk)
    return render(request, "facts/edit.html", {
        "sheet": None, "values": values, "error": error, "field_errors": field_errors,
        "kinds": Kind.choices, "nav": "facts"}, status=status)


@workspace_member()
@require_http_methods(["GET", "POST"])
def edit(request: MemberRequest, sheet_id: int) -> HttpResponse:
    """The latest version in a form, the version history and what the last save changed. A save
    on top of an older version than the latest is refused (409) with the user's text kept in the
    form and the latest version shown next to it; saving again then saves on top of it."""
    ws = request.membership.workspace_id
    sheet = selectors.sheet_get(workspace_id=ws, sheet_id=sheet_id)
    head = selectors.head_version(sheet=sheet)
    values, base_number = _values_of(head), sheet.head_number
    error, field_errors, status, stale = "", {}, 200, False
    if request.method == "POST":
        values = _form_values(request)
        raw_base = request.POST.get("base_number", "")
        try:
            if not raw_base.isdigit():
                raise services.FactsError("The form is missing the version it was based on; "
                                          "reload the page.")
            version = services.fact_sheet_save(membership=request.membership, sheet_id=sheet.pk,
                                               base_number=int(raw_base), **values)
        except services.StaleEdit as exc:
            error, status, stale = exc.message, 409, True
            sheet.refresh_from_db()
            head = selectors.head_version(sheet=sheet)
            base_number = sheet.head_number  # saving again now saves on top of the latest
        except services.FactsError as exc:
            error, field_errors, status = exc.message, exc.field_errors, exc.status
            base_number = int(raw_base) if raw_base.isdigit() else sheet.head_number
        else:
            if version.number == int(raw_base):
                messages.info(request, "Nothing changed, so no new version was made.")
            else:
                messages.success(request, f"Saved version {version.number}.")
            return redirect("facts:edit", ws=ws, sheet_id=sheet.pk)
    versions = list(selectors.versions_of(sheet=sheet)[:50])
    previous = next((v for v in versions if v.number == head.number - 1), None)
    return render(request, "facts/edit.html", {
        "sheet": sheet, "head": head, "values": values, "base_number": base_number,
        "error": error, "field_errors": field_errors, "stale": stale, "kinds": Kind.choices,
        "versions": versions, "last_change": selectors.change(old=previous, new=head),
        "nav": "facts"}, status=status)


@workspace_member()
@require_GET
def version(request: MemberRequest, sheet_id: int, number: int) -> HttpResponse:
    sheet = selectors.sheet_get(workspace_id=request.membership.workspace_id, sheet_id=sheet_id)
    v = selectors.version_get(sheet=sheet, number=number)
    previous = (selectors.version_get(sheet=sheet, number=number - 1) if number > 1 else None)
    return render(request, "facts/version.html", {
        "sheet": sheet, "v": v, "change": selectors.change(old=previous, new=v), "nav": "facts"})


@workspace_member()
@require_POST
def archive(request: MemberRequest, sheet_id: int) -> HttpResponse:
    ws = request.membership.workspace_id
    sheet = selectors.sheet_get(workspace_id=ws, sheet_id=sheet_id)
    archived = request.POST.get("archived", "1") != "0"
    try:
        services.fact_sheet_archive(membership=request.membership, sheet_id=sheet.pk,
                                    archived=archived)
    except services.FactsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"{'Archived' if archived else 'Restored'} \u201c{sheet.name}\u201d.")
    return redirect("facts:list", ws=ws)


def choices_context(*, workspace_id: int, brief: str, ticked: list[str] | None = None,
                    suggested: bool = True) -> dict[str, Any]:
    """The generate form's fact-sheet checkboxes: every live sheet, the ones nearest the brief
    marked "suggested" and ticked when the user has ticked nothing yet."""
    sheets: list[FactSheet] = list(selectors.sheets_for_workspace(workspace_id=workspace_id)[:200])
    found = (services.suggest(workspace_id=workspace_id, text=brief)
             if sheets and suggested and brief.strip() else services.Suggestions([], "words"))
    near = {s.pk for s in found.sheets}
    chosen = {int(i) for i in (ticked or []) if str(i).isdigit()}
    if not chosen:
        chosen = set(near)
    return {"fact_sheets": sheets, "fact_suggested": near, "fact_ticked": chosen,
            "fact_method": found.method}


@workspace_member()
@require_GET
def suggest(request: MemberRequest) -> HttpResponse:
    """The checkboxes again, with suggestions for what the generate form holds now (htmx). A
    brief not embedded yet is ranked by shared words, and the list asks once more a few seconds
    later, when a worker has embedded it."""
    brief = " ".join(value for key, values in request.GET.lists() if key not in NOT_BRIEF
                     for value in values)
    context = choices_context(workspace_id=request.membership.workspace_id, brief=brief,
                              ticked=request.GET.getlist("fact_sheets"))
    context["fact_again"] = context["fact_method"] == "words" and "again" not in request.GET
    return render(request, "facts/choices.html", context)
