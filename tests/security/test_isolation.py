"""Tenant isolation over every URL the resolver knows: a new URL that is not listed in
tests/support/url_matrix.py fails.

Each workspace URL is called as anonymous (-> login), outsider (-> 404, never 200/403),
viewer (-> 403 on writes) and editor (-> allowed, except owner-only actions).
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from copywriter.documents.services import document_create
from copywriter.generation.models import Generation
from tests.support.cast import client_for
from tests.support.report import report
from tests.support.url_matrix import LOGIN_ONLY, PUBLIC, WORKSPACE_URLS, all_url_names, url_for


def test_every_url_is_classified():
    # The JSON API's own routes ("v1:") are classified in API_ROUTES below, from its schema.
    unlisted = {n for n in all_url_names() if not n.startswith("v1:")} - PUBLIC - LOGIN_ONLY - set(
        WORKSPACE_URLS)
    assert not unlisted, f"add these URLs to the isolation matrix: {sorted(unlisted)}"
    report(f"isolation matrix: {len(all_url_names())} URL patterns, "
           f"{len(WORKSPACE_URLS)} workspace URLs x anonymous/outsider/viewer/editor")


def call(client: Client, method: str, url: str):
    data = {"title": "x", "body": "y", "base_number": 1, "role": "viewer", "email": "",
            "days": 1, "name": "n", "rating": 1}
    return client.post(url, data) if method == "POST" else client.get(url)


RANK = {"viewer": 0, "editor": 1, "owner": 2}


@pytest.mark.parametrize("name", sorted(WORKSPACE_URLS))
def test_matrix(name, cast, objects):
    method, needed = WORKSPACE_URLS[name]
    url = url_for(name, cast.ws.pk, objects, cast)
    anon = call(Client(), method, url)
    assert anon.status_code == 302 and "/accounts/login/" in anon["Location"], name
    outsider = call(client_for(cast.charlie), method, url)
    assert outsider.status_code == 404, f"{name}: outsider got {outsider.status_code}"
    for user, role in ((cast.vera, "viewer"), (cast.bob, "editor")):
        response = call(client_for(user), method, url)
        if RANK[role] < RANK[needed]:
            assert response.status_code == 403, f"{name} as {role}: {response.status_code}"
        else:
            assert response.status_code not in (403, 404, 500), f"{name} as {role}: {response.status_code}"


def test_ids_of_another_workspace_are_404_inside_my_workspace(cast, objects, charlie_client):
    """Charlie uses his own workspace in the URL with Alice's object ids: nothing leaks."""
    own = cast.other.pk
    for name in ("documents:edit", "documents:history", "documents:export", "generation:detail",
                 "generation:export_search_ads",
                 "documents:save", "documents:restore", "generation:retry", "originality:check",
                 "originality:check_detail", "originality:reference",
                 "originality:reference_delete", "bulk:run", "bulk:download", "bulk:row_edit",
                 "bulk:cancel", "seo:document_panel", "seo:document_enrich", "seo:variant_panel",
                 "seo:enrichment", "seo:accept", "seo:list_delete", "facts:edit",
                 "facts:version", "facts:archive", "webhooks:detail", "webhooks:delete",
                 "webhooks:rotate", "webhooks:test", "style:document_panel",
                 "style:document_fix", "style:variant_panel", "style:variant_save", "workflow:panel",
                 "workflow:request_review", "workflow:approve", "workflow:request_changes",
                 "workflow:publish", "workflow:comment_create", "workflow:comment_resolve",
                 "workflow:version_comments", "workflow:export_version"):
        method = WORKSPACE_URLS[name][0]
        response = call(charlie_client, method, url_for(name, own, objects, cast))
        assert response.status_code == 404, name
    objects["doc"].refresh_from_db()
    assert objects["doc"].body == "alpha" and objects["doc"].versions.count() == 1
    objects["sheet"].refresh_from_db()
    assert objects["sheet"].head_number == 1 and not objects["sheet"].archived
    assert Generation.objects.filter(workspace=cast.other).count() == 0
    objects["webhook"].refresh_from_db()
    assert objects["webhook"].secret == "whsec_isolation" and not objects["webhook"].messages.exists()


def test_search_results_never_include_another_workspace(cast, objects, charlie_client):
    document_create(membership=cast.charlie_m, title="Charlie notes", body="alpha too")
    html = charlie_client.get(reverse("documents:list", args=[cast.other.pk]), {"q": "alpha"}).content.decode()
    assert "Charlie notes" in html and "Secret plan" not in html
    html = charlie_client.get(reverse("generation:history", args=[cast.other.pk]), {"q": "copy"}).content.decode()
    assert "Nothing generated" in html or "No generation matches" in html


# --- the JSON API: every operation in its OpenAPI schema, as no token / outsider / viewer / editor

API_GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns"}
# (method, path) -> (role the token needs, whether the path names an object of the workspace).
# A path without an object acts in the token's own workspace: an outsider gets its own (empty)
# results there, never ours.
API_ROUTES = {
    ("GET", "/api/v1/templates"): ("viewer", False),
    ("GET", "/api/v1/templates/{slug}"): ("viewer", True),
    ("POST", "/api/v1/generations"): ("editor", True),  # names our own template by slug
    ("GET", "/api/v1/generations/{generation_id}"): ("viewer", True),
    ("POST", "/api/v1/generations/{generation_id}/retry"): ("editor", True),
    ("GET", "/api/v1/documents"): ("viewer", False),
    ("POST", "/api/v1/documents"): ("editor", False),
    ("GET", "/api/v1/documents/{document_id}"): ("viewer", True),
    ("GET", "/api/v1/workflow/released"): ("viewer", False),
    ("GET", "/api/v1/documents/{document_id}/versions/{number}"): ("viewer", True),
    ("POST", "/api/v1/documents/{document_id}/versions"): ("editor", True),
    ("POST", "/api/v1/documents/{document_id}/originality"): ("viewer", True),  # reading is enough
    ("GET", "/api/v1/originality/{check_id}"): ("viewer", True),
    ("POST", "/api/v1/seo/analyse"): ("viewer", True),  # names our keyword list by id
    ("POST", "/api/v1/seo/suggest"): ("viewer", False),
    ("GET", "/api/v1/facts"): ("viewer", False),
    ("POST", "/api/v1/facts"): ("editor", False),
    ("GET", "/api/v1/facts/{sheet_id}"): ("viewer", True),
    ("GET", "/api/v1/facts/{sheet_id}/versions/{number}"): ("viewer", True),
    ("POST", "/api/v1/facts/{sheet_id}/versions"): ("editor", True),
    ("GET", "/api/v1/audit"): ("owner", False),  # the activity log: owner tokens only
    ("GET", "/api/v1/style/rules"): ("viewer", False),
    ("PUT", "/api/v1/style/rules"): ("owner", False),
    ("POST", "/api/v1/style/check"): ("viewer", False),
    ("GET", "/api/v1/documents/{document_id}/workflow"): ("viewer", True),
    ("POST", "/api/v1/documents/{document_id}/workflow/review-requests"): ("editor", True),
    # approvers only: API_PREPARE names the editor a reviewer and puts the document in review
    ("POST", "/api/v1/documents/{document_id}/workflow/approve"): ("editor", True),
    ("POST", "/api/v1/documents/{document_id}/workflow/request-changes"): ("editor", True),
    ("POST", "/api/v1/documents/{document_id}/workflow/publish"): ("editor", True),
    ("GET", "/api/v1/documents/{document_id}/comments"): ("viewer", True),
    ("POST", "/api/v1/documents/{document_id}/comments"): ("editor", True),
    ("POST", "/api/v1/documents/{document_id}/comments/{comment_id}/resolve"): ("editor", True),
}


def _in_review_for_bob(cast, o):
    from copywriter.workflow import services

    services.settings_update(membership=cast.alice_m, approvers="reviewers",
                             reviewer_ids=[cast.bob.pk], publish_needs_approval=True,
                             approval_needs_clean_style=False)
    services.request_review(membership=cast.alice_m, document_id=o["doc"].pk,
                            reviewer_ids=[cast.bob.pk])


def _approved(cast, o):
    from copywriter.workflow import services

    _in_review_for_bob(cast, o)
    services.approve(membership=cast.bob_m, document_id=o["doc"].pk)


# Routes whose editor call needs the document in a state first (the other callers are refused
# before the state matters: no token 401, outsider 404, viewer 403).
API_PREPARE = {
    ("POST", "/api/v1/documents/{document_id}/workflow/approve"): _in_review_for_bob,
    ("POST", "/api/v1/documents/{document_id}/workflow/request-changes"): _in_review_for_bob,
    ("POST", "/api/v1/documents/{document_id}/workflow/publish"): _approved,
}


def api_operations() -> set[tuple[str, str]]:
    from copywriter.api.api import api

    schema = api.get_openapi_schema()
    return {(method.upper(), path) for path, methods in schema["paths"].items() for method in methods}


def test_every_api_operation_is_classified():
    ops = api_operations()
    assert ops - set(API_ROUTES) == set(), f"add these API operations to API_ROUTES: {sorted(ops - set(API_ROUTES))}"
    assert set(API_ROUTES) - ops == set(), "API_ROUTES lists operations that no longer exist"
    report(f"API isolation matrix: {len(ops)} API operations from the OpenAPI schema "
           "x no token/outsider/viewer/editor token")


def api_call(client: Client, method: str, path: str, o: dict, secret: str | None):
    import json

    url = (path.replace("{slug}", o["own_template"].slug)
           .replace("{generation_id}", str(o["gen"].pk)).replace("{document_id}", str(o["doc"].pk))
           .replace("{number}", "1").replace("{check_id}", str(o["check"].pk))
           .replace("{sheet_id}", str(o["sheet"].pk))
           .replace("{comment_id}", str(o["comment"].pk)))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"} if secret else {}
    if method == "GET":
        return client.get(url, **headers)
    body = {"/api/v1/generations": {"template": o["own_template"].slug, "fields": API_GOOD,
                                    "variants": 1},
            "/api/v1/documents": {"title": "From the API", "body": "new"},
            "/api/v1/seo/analyse": {"text": "Waterproof boots for long walks.",
                                    "keyword_list": o["keyword_list"].pk},
            "/api/v1/seo/suggest": {"text": "Waterproof hiking boots with free returns.",
                                    "brief": "boots"},
            "/api/v1/facts": {"name": "From the API", "facts": ["Made in Porto"]},
            "/api/v1/facts/{sheet_id}/versions": {"name": "Edited", "facts": ["New fact"],
                                                  "base_version": 1},
            "/api/v1/style/rules": {"banned": [{"term": "cheap", "reason": "off brand"}],
                                    "spelling": "en-GB"},
            "/api/v1/style/check": {"text": "Waterproof boots, in every colour!"},

            "/api/v1/documents/{document_id}/workflow/review-requests": {
                "reviewers": ["alice@example.com"]},
            "/api/v1/documents/{document_id}/workflow/request-changes": {"comment": "Shorter"}}.get(
        path, {"body": "edited", "base_version": 1})
    send = client.put if method == "PUT" else client.post
    return send(url, json.dumps(body), content_type="application/json", **headers)


@pytest.mark.parametrize("route", sorted(API_ROUTES), ids=lambda r: f"{r[0]} {r[1]}")
def test_api_matrix(route, cast, objects, monkeypatch):
    from copywriter.api.services import token_create

    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)
    method, path = route
    needed, scoped = API_ROUTES[route]
    if route in API_PREPARE:
        API_PREPARE[route](cast, objects)
    secrets = {
        "outsider": token_create(membership=cast.charlie_m, name="c", role="owner").secret,
        "viewer": token_create(membership=cast.alice_m, name="v", role="viewer").secret,
        "editor": token_create(membership=cast.bob_m, name="b", role="editor").secret,
        "owner": token_create(membership=cast.alice_m, name="o", role="owner").secret,
    }
    before = (objects["doc"].versions.count(), Generation.objects.count())
    none = api_call(Client(), method, path, objects, None)
    assert none.status_code == 401, f"{route} without a token: {none.status_code}"
    outsider = api_call(Client(), method, path, objects, secrets["outsider"])
    if scoped:
        assert outsider.status_code == 404, f"{route} outsider: {outsider.status_code}"
    else:
        assert outsider.status_code in (200, 201), f"{route} outsider: {outsider.status_code}"
        for secret in ("Secret plan", "Own ad", "alpha", "Fernway secret boots"):
            assert secret not in outsider.content.decode(), f"{route} leaked {secret!r}"
    assert (objects["doc"].versions.count(), Generation.objects.filter(workspace=cast.ws).count()) == before
    viewer = api_call(Client(), method, path, objects, secrets["viewer"])
    if RANK[needed] > RANK["viewer"]:
        assert viewer.status_code == 403, f"{route} viewer token: {viewer.status_code}"
        assert (objects["doc"].versions.count(), Generation.objects.filter(workspace=cast.ws).count()) == before
    else:
        assert viewer.status_code in (200, 201, 202), f"{route} viewer token: {viewer.status_code}"
    editor = api_call(Client(), method, path, objects, secrets["editor"])
    if RANK[needed] > RANK["editor"]:
        assert editor.status_code == 403, f"{route} editor token: {editor.status_code}"
        editor = api_call(Client(), method, path, objects, secrets["owner"])  # the control
    assert editor.status_code in (200, 201, 202), f"{route} editor token: {editor.status_code} {editor.content[:300]}"
    assert editor["Content-Type"].startswith("application/json")


# --- ids of another workspace inside a form or an API body -------------------------------------

def test_another_workspaces_brand_voice_as_a_tone_is_refused(cast, objects, ad_template,
                                                             charlie_client, monkeypatch):
    """Alice's brand voice (voice-<id>) named as the tone in Charlie's own workspace."""
    import json

    from copywriter.api.services import token_create

    sent: list[int] = []
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: sent.append(gen.pk))
    tone = f"voice-{objects['voice'].pk}"
    response = charlie_client.post(reverse("catalog:detail", args=[cast.other.pk, ad_template.pk]),
                                   {**API_GOOD, "tone": tone, "variants": 1, "length": "short"})
    assert response.status_code == 400
    secret = token_create(membership=cast.charlie_m, name="c", role="owner").secret
    response = Client().post("/api/v1/generations", json.dumps(
        {"template": ad_template.slug, "fields": API_GOOD, "tone": tone}),
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert response.status_code == 400 and "tone" in response.json()["errors"]
    assert not Generation.objects.filter(workspace=cast.other).exists() and not sent


def test_another_workspaces_ids_in_my_workspaces_forms_change_nothing(cast, objects,
                                                                      charlie_client):
    """Charlie, owner of his own workspace, posts Alice's ids through his own workspace's URLs."""
    from copywriter.documents.models import Document
    from copywriter.workspaces.models import Membership

    own = cast.other.pk
    attempts = [
        reverse("generation:save", args=[own, objects["gen"].pk, 0]),  # her variant into my document
        reverse("generation:rate", args=[own, objects["gen"].pk, 0]),
        reverse("workspaces:set_role", args=[own, cast.bob_m.pk]),
        reverse("workspaces:remove", args=[own, cast.bob_m.pk]),
        reverse("workspaces:revoke", args=[own, objects["inv"].pk]),
        reverse("api:revoke", args=[own, objects["token"].pk]),
        reverse("catalog:edit", args=[own, objects["own_template"].pk]),
        reverse("catalog:delete", args=[own, objects["own_template"].pk]),
        reverse("generation:voice_delete", args=[own, objects["voice"].pk]),
        reverse("documents:untrash", args=[own, objects["trashed"].pk]),
    ]
    for url in attempts:
        response = charlie_client.post(url, {"role": "viewer", "rating": 1, "yaml": "id: x"})
        assert response.status_code == 404, url
    response = charlie_client.get(reverse("catalog:new", args=[own]),
                                  {"from": objects["own_template"].pk})
    assert response.status_code == 404
    assert not Document.objects.filter(workspace=cast.other).exists()
    assert Membership.objects.get(pk=cast.bob_m.pk).role == "editor"
    objects["inv"].refresh_from_db()
    objects["token"].refresh_from_db()
    assert objects["inv"].revoked_at is None and objects["token"].revoked_at is None
    assert objects["gen"].results.get().rating == 0
    objects["own_template"].refresh_from_db()
    assert objects["own_template"].is_active and objects["own_template"].title == "Own ad"
    report(f"cross-workspace ids in form/API bodies refused: {len(attempts) + 3} attempts")


def test_another_workspaces_template_or_keyword_list_in_my_forms_is_refused(cast, objects,
                                                                             charlie_client):
    """Bulk upload naming Alice's template id, the SEO panel naming Alice's keyword list id."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from copywriter.bulk.models import BulkRun

    own = cast.other.pk
    runs_before = BulkRun.objects.count()
    csv = SimpleUploadedFile("rows.csv", b"product,benefit\nBoots,Dry\n", content_type="text/csv")
    response = charlie_client.post(reverse("bulk:upload", args=[own]), {
        "template": objects["own_template"].pk, "tone": "neutral", "length": "short", "file": csv})
    assert response.status_code == 400 and "Choose a template" in response.content.decode()
    assert BulkRun.objects.count() == runs_before
    charlie_doc = document_create(membership=cast.charlie_m, title="Mine", body="boots")
    response = charlie_client.get(reverse("seo:document_panel", args=[own, charlie_doc.pk]),
                                  {"list": objects["keyword_list"].pk})
    assert response.status_code == 404
