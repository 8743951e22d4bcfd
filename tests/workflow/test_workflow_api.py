"""The workflow through the JSON API: the same service as the web, states in the schema."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from copywriter.api.api import api
from copywriter.api.services import token_create
from copywriter.documents.services import document_create
from copywriter.workflow.models import DocumentState


@pytest.fixture(autouse=True)
def _no_index(monkeypatch):
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)


def call(secret: str, method: str, path: str, body: dict | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if method == "GET":
        return Client().get(f"/api/v1{path}", **headers)
    return Client().post(f"/api/v1{path}", json.dumps(body or {}),
                         content_type="application/json", **headers)


@pytest.fixture
def tokens(cast):
    return {"owner": token_create(membership=cast.alice_m, name="o", role="owner").secret,
            "editor": token_create(membership=cast.bob_m, name="e", role="editor").secret,
            "viewer": token_create(membership=cast.bob_m, name="v", role="viewer").secret,
            "outsider": token_create(membership=cast.charlie_m, name="c", role="owner").secret}


def test_review_and_approval_through_the_api(cast, tokens):
    doc = document_create(membership=cast.bob_m, title="Spring launch", body="Dry boots.")
    base = f"/documents/{doc.pk}"
    r = call(tokens["viewer"], "GET", f"{base}/workflow")
    assert r.status_code == 200
    assert r.json() | {"waiting_for": None} == {
        "document": doc.pk, "state": "draft", "version": None, "approved_version": None,
        "published_version": None, "head_version": 1, "waiting_for": None, "allowed": []}
    r = call(tokens["editor"], "POST", f"{base}/workflow/review-requests",
             {"reviewers": ["Alice@Example.com"], "comment": "Please look"})
    assert r.status_code == 200, r.content
    assert r.json()["state"] == "in_review"
    assert [w["reviewer"] for w in r.json()["waiting_for"]] == ["alice@example.com"]
    assert r.json()["allowed"] == ["comment"]
    r = call(tokens["owner"], "GET", f"{base}/workflow")
    assert r.json()["allowed"] == ["approve", "comment", "request_changes"]
    r = call(tokens["owner"], "POST", f"{base}/comments",
             {"body": "Which boots?", "quote": "boots", "start": 4, "end": 9})
    assert r.status_code == 201 and r.json()["quote"] == "boots" and r.json()["version"] == 1
    comment_id = r.json()["id"]
    r = call(tokens["owner"], "POST", f"{base}/workflow/request-changes",
             {"comment": "Name the model."})
    assert r.status_code == 200 and r.json()["state"] == "changes_requested"
    r = call(tokens["editor"], "POST", f"{base}/versions",
             {"body": "Dry Fernway boots.", "base_version": 1})
    assert r.status_code == 201
    r = call(tokens["editor"], "POST", f"{base}/comments", {"body": "Done", "parent": comment_id})
    assert r.status_code == 201 and r.json()["parent"] == comment_id
    r = call(tokens["editor"], "POST", f"{base}/comments/{comment_id}/resolve")
    assert r.status_code == 200 and r.json()["resolved"] is True
    r = call(tokens["editor"], "POST", f"{base}/workflow/review-requests", {})
    assert r.status_code == 200 and r.json()["state"] == "in_review"
    r = call(tokens["owner"], "POST", f"{base}/workflow/approve", {"comment": "Good"})
    assert r.status_code == 200 and r.json()["approved_version"] == 2
    r = call(tokens["editor"], "POST", f"{base}/workflow/publish")
    assert r.status_code == 200
    assert (r.json()["state"], r.json()["published_version"]) == ("published", 2)
    r = call(tokens["viewer"], "GET", f"{base}/comments")
    assert [(c["body"], c["version"]) for c in r.json()] == [
        ("Which boots?", 1), ("Name the model.", 1), ("Done", 1), ("Good", 2)]


def test_api_refusals_are_clear_json(cast, tokens):
    doc = document_create(membership=cast.bob_m, title="Spring launch", body="Dry boots.")
    base = f"/documents/{doc.pk}"
    r = call(tokens["owner"], "POST", f"{base}/workflow/approve", {})
    assert r.status_code == 400 and "draft" in r.json()["detail"]
    r = call(tokens["editor"], "POST", f"{base}/workflow/publish")
    assert r.status_code == 400 and "needs an approval" in r.json()["detail"]
    r = call(tokens["editor"], "POST", f"{base}/workflow/review-requests",
             {"reviewers": ["charlie@example.com"]})
    assert r.status_code == 400 and r.json()["errors"] == {"reviewers": "Not a member."}
    r = call(tokens["editor"], "POST", f"{base}/workflow/review-requests",
             {"reviewers": ["bob@example.com"]})
    assert r.status_code == 400 and "cannot approve" in r.json()["detail"]
    call(tokens["editor"], "POST", f"{base}/workflow/review-requests",
         {"reviewers": ["alice@example.com"]})
    r = call(tokens["editor"], "POST", f"{base}/workflow/approve", {})
    assert r.status_code == 403 and "Only owners" in r.json()["detail"]
    r = call(tokens["viewer"], "POST", f"{base}/workflow/approve", {})
    assert r.status_code == 403
    r = call(tokens["owner"], "POST", f"{base}/workflow/request-changes", {})
    assert r.status_code == 400 and "comment" in r.json()["errors"]
    r = call(tokens["owner"], "POST", f"{base}/workflow/request-changes", {"comment": "x\x00"})
    assert r.status_code == 400
    r = call(tokens["owner"], "POST", f"{base}/comments", {"body": "?", "quote": "absent"})
    assert r.status_code == 400 and "not in version 1" in r.json()["detail"]
    r = call(tokens["owner"], "POST", f"{base}/comments", {"body": "?", "version": 9})
    assert r.status_code == 404 and "no version 9" in r.json()["detail"]
    r = call(tokens["outsider"], "GET", f"{base}/workflow")
    assert r.status_code == 404
    r = call(tokens["outsider"], "POST", f"{base}/workflow/request-changes", {"comment": "x"})
    assert r.status_code == 404
    assert DocumentState.objects.get(document=doc).state == "in_review"


def test_states_are_an_enum_in_the_schema():
    schema = api.get_openapi_schema()
    components = schema["components"]["schemas"]
    state = components["WorkflowOut"]["properties"]["state"]
    ref = state.get("$ref") or state.get("allOf", [{}])[0].get("$ref")
    enum = components[ref.split("/")[-1]]["enum"] if ref else state["enum"]
    assert enum == ["draft", "in_review", "changes_requested", "approved", "published"]
    paths = schema["paths"]
    for path in ("/api/v1/documents/{document_id}/workflow/approve",
                 "/api/v1/documents/{document_id}/workflow/request-changes",
                 "/api/v1/documents/{document_id}/workflow/publish",
                 "/api/v1/documents/{document_id}/workflow/review-requests",
                 "/api/v1/documents/{document_id}/comments/{comment_id}/resolve"):
        assert "post" in paths[path]
