from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from copywriter.api import selectors, services
from copywriter.api.models import ApiToken
from copywriter.workspaces.decorators import workspace_member
from copywriter.workspaces.models import ROLE_RANK, Role
from copywriter.workspaces.types import MemberRequest


@workspace_member()
@require_http_methods(["GET", "POST"])
def tokens(request: MemberRequest) -> HttpResponse:
    """List the workspace's tokens; POST makes one and shows its secret, this once only."""
    membership = request.membership
    error, status, secret, made = "", 200, "", None
    name = request.POST.get("name", "")[:200]
    role = request.POST.get("role", Role.EDITOR if membership.can_write else Role.VIEWER)
    if request.method == "POST":
        try:
            new = services.token_create(membership=membership, name=name, role=role)
        except ValidationError as exc:
            error, status = " ".join(exc.messages), 400
        else:
            secret, made, name = new.secret, new.token, ""
    roles = [(value, label) for value, label in Role.choices
             if ROLE_RANK[Role(value)] <= ROLE_RANK[Role(membership.role)]]
    context: dict[str, Any] = {
        "tokens": selectors.tokens_for_workspace(workspace_id=membership.workspace_id),
        "secret": secret, "made": made, "error": error, "name": name, "role": role,
        "roles": roles, "nav": "settings"}
    response = render(request, "api/tokens.html", context, status=status)
    if secret:
        response["Cache-Control"] = "no-store"  # the secret must not sit in a cache
    return response


@workspace_member()
@require_POST
def revoke(request: MemberRequest, token_id: int) -> HttpResponse:
    get_object_or_404(ApiToken, pk=token_id, workspace_id=request.membership.workspace_id)
    token = services.token_revoke(membership=request.membership, token_id=token_id)
    messages.success(request, f"Revoked the token \u201c{token.name}\u201d: it stops working now.")
    return redirect("api:tokens", ws=request.membership.workspace_id)


@require_GET
def docs(request: HttpRequest) -> HttpResponse:
    """The API reference, rendered on the server from the OpenAPI schema: no Swagger UI, no CDN,
    nothing the CSP would have to allow."""
    from copywriter.api.api import api

    schema = api.get_openapi_schema()
    operations = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": p.get("schema", {}).get("type", "")}
                      for p in op.get("parameters", [])]
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            ref = body.get("schema", {}).get("$ref", "")
            operations.append({"method": method.upper(), "path": path,
                               "summary": op.get("summary", ""), "params": params,
                               "body": ref.rsplit("/", 1)[-1] if ref else "",
                               "responses": sorted(op.get("responses", {}))})
    components = schema.get("components", {}).get("schemas", {})
    bodies = {name: sorted(components[name].get("properties", {}).items())
              for name in sorted({o["body"] for o in operations if o["body"]})}
    return render(request, "api/docs.html", {"operations": operations, "bodies": bodies,
                                             "description": schema["info"].get("description", "")})
