from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from copywriter.workspaces import selectors, services
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.forms import InviteForm, RoleForm, WorkspaceForm
from copywriter.workspaces.models import Invitation, Membership, Role
from copywriter.workspaces.types import MemberRequest


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """The last workspace used, or the first; a user with none is asked to create one."""
    memberships = selectors.memberships_for_user(user=request.user)  # type: ignore[arg-type]
    if not memberships:
        return redirect("workspaces:create")
    wanted = request.session.get("workspace_id")
    chosen = next((m for m in memberships if m.workspace_id == wanted), memberships[0])
    return redirect("documents:list", ws=chosen.workspace_id)


@login_required
@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    form = WorkspaceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            ws = services.workspace_create(owner=request.user,  # type: ignore[arg-type]
                                           name=form.cleaned_data["name"])
        except ValidationError as exc:
            form.add_error(None, exc)
            return render(request, "workspaces/create.html", {"form": form}, status=400)
        messages.success(request, f"Created {ws.name}.")
        return redirect("documents:list", ws=ws.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "workspaces/create.html", {"form": form}, status=status)


def _members_page(request: MemberRequest, *, invite_form: InviteForm | None = None,
                  status: int = 200) -> HttpResponse:
    ws_id = request.membership.workspace_id
    return render(request, "workspaces/members.html", {
        "members": selectors.members_of(workspace_id=ws_id),
        "invitations": selectors.open_invitations(workspace_id=ws_id),
        "invite_form": invite_form or InviteForm(),
        "roles": Role.choices,
    }, status=status)


@workspace_member()
def members(request: MemberRequest) -> HttpResponse:
    return _members_page(request)


@workspace_member(Role.OWNER)
@require_POST
def invite(request: MemberRequest) -> HttpResponse:
    """A refused invitation answers 400 with the form as typed and the reason; nothing stored."""
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _members_page(request, invite_form=form, status=400)
    try:
        inv = services.invitation_create(membership=request.membership,
                                         email=form.cleaned_data["email"] or "",
                                         role=form.cleaned_data["role"],
                                         ttl_days=form.cleaned_data["days"])
    except ValidationError as exc:
        form.add_error(None, exc)
        return _members_page(request, invite_form=form, status=400)
    if inv.email:
        messages.success(request, f"Invitation sent to {inv.email}.")
    else:
        messages.success(request, "Shareable link created: copy it from the list below.")
    return redirect("workspaces:members", ws=request.membership.workspace_id)


@workspace_member(Role.OWNER)
@require_POST
def revoke(request: MemberRequest, invitation_id: int) -> HttpResponse:
    get_object_or_404(Invitation, pk=invitation_id, workspace=request.membership.workspace)
    services.invitation_revoke(membership=request.membership, invitation_id=invitation_id)
    messages.success(request, "Invitation revoked.")
    return redirect("workspaces:members", ws=request.membership.workspace_id)


@workspace_member(Role.OWNER)
@require_POST
def set_role(request: MemberRequest, member_id: int) -> HttpResponse:
    get_object_or_404(Membership, pk=member_id, workspace=request.membership.workspace)
    form = RoleForm(request.POST)
    if form.is_valid():
        try:
            services.member_set_role(membership=request.membership, member_id=member_id,
                                     role=form.cleaned_data["role"])
            messages.success(request, "Role updated.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect("workspaces:members", ws=request.membership.workspace_id)


@workspace_member(Role.OWNER)
@require_POST
def remove(request: MemberRequest, member_id: int) -> HttpResponse:
    get_object_or_404(Membership, pk=member_id, workspace=request.membership.workspace)
    try:
        services.member_remove(membership=request.membership, member_id=member_id)
        messages.success(request, "Member removed.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("workspaces:members", ws=request.membership.workspace_id)


@workspace_member(write_methods_need=Role.VIEWER)
@require_POST
def leave(request: MemberRequest) -> HttpResponse:
    try:
        services.workspace_leave(membership=request.membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("workspaces:members", ws=request.membership.workspace_id)
    request.session.pop("workspace_id", None)
    messages.success(request, f"You left {request.membership.workspace.name}.")
    return redirect("workspaces:home")


@workspace_member(Role.OWNER)
@require_http_methods(["GET", "POST"])
def settings_view(request: MemberRequest) -> HttpResponse:
    ws = request.membership.workspace
    form = WorkspaceForm(request.POST or None, initial={"name": ws.name,
                                                        "claims_policy": ws.claims_policy,
                                                        "candidates": ws.candidates})
    if request.method == "POST" and form.is_valid():
        services.workspace_rename(membership=request.membership, name=form.cleaned_data["name"])
        if form.cleaned_data["claims_policy"]:
            services.workspace_set_claims_policy(membership=request.membership,
                                                 policy=form.cleaned_data["claims_policy"])
        if form.cleaned_data["candidates"] is not None:
            services.workspace_set_candidates(membership=request.membership,
                                              candidates=form.cleaned_data["candidates"])
        messages.success(request, "Saved.")
        return redirect("workspaces:settings", ws=request.membership.workspace_id)
    status = 400 if request.method == "POST" else 200
    return render(request, "workspaces/settings.html", {"form": form}, status=status)


@require_http_methods(["GET", "POST"])
def accept(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone with the link sees what they are joining; joining needs an account."""
    inv = Invitation.objects.select_related("workspace").filter(token=token).first()
    if inv is None or not services.invitation_usable(inv):
        return render(request, "workspaces/accept.html", {"invalid": True}, status=410)
    if not request.user.is_authenticated:
        return render(request, "workspaces/accept.html", {"invitation": inv})
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)  # type: ignore[arg-type]
        except services.InvitationUnusable as exc:
            return render(request, "workspaces/accept.html", {"invalid": True, "reason": str(exc)},
                          status=410)
        messages.success(request, f"You joined {membership.workspace.name}.")
        return redirect("documents:list", ws=membership.workspace_id)
    return render(request, "workspaces/accept.html", {"invitation": inv})
