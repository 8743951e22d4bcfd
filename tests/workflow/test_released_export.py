"""Bulk export goes through the workflow: the approved (or published) version of each document,
frozen as it was approved, from the web as a zip and from the API; never a draft or a later edit,
never another workspace's documents."""

from __future__ import annotations

import csv
import io
import json
import zipfile

import pytest
from django.urls import reverse

from copywriter.api import services as token_services
from copywriter.audit.models import AuditEvent
from copywriter.documents.services import document_create, document_save
from copywriter.workflow import services
from tests.support.cast import client_for


@pytest.fixture(autouse=True)
def _no_index(monkeypatch):
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)


def _approve(cast, doc):
    services.request_review(membership=cast.bob_m, document_id=doc.pk, reviewer_ids=[cast.alice.pk])
    services.approve(membership=cast.alice_m, document_id=doc.pk)


@pytest.fixture
def docs(cast):
    """Approved then edited (a new draft); published; a draft never approved; and an approved
    document of charlie's workspace."""
    edited = document_create(membership=cast.bob_m, title="Spring launch", body="Approved words.")
    _approve(cast, edited)
    document_save(membership=cast.bob_m, document_id=edited.pk, title="Spring launch",
                  body="Edited after approval.", base_number=1)
    published = document_create(membership=cast.bob_m, title="Summer sale", body="Sale words.")
    _approve(cast, published)
    services.publish(membership=cast.alice_m, document_id=published.pk)
    draft = document_create(membership=cast.bob_m, title="Autumn draft", body="Not yet.")
    theirs = document_create(membership=cast.charlie_m, title="Charlie's", body="Charlie words.")
    services.request_review(membership=cast.charlie_m, document_id=theirs.pk,
                            reviewer_ids=[cast.charlie.pk])
    services.approve(membership=cast.charlie_m, document_id=theirs.pk)
    return edited, published, draft, theirs


def _zip(response):
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = list(csv.DictReader(io.StringIO(archive.read("manifest.csv").decode())))
    return archive, manifest


def test_the_zip_holds_each_approved_version_as_approved(cast, docs):
    edited, published, draft, theirs = docs
    viewer = client_for(cast.vera)  # reading is enough to export
    archive, manifest = _zip(viewer.get(
        reverse("workflow:export_released", args=[cast.ws.pk]) + "?which=approved"))
    assert [(r["title"], r["version"], r["state"], r["edited_since"]) for r in manifest] == [
        ("Spring launch", "1", "draft", "yes"), ("Summer sale", "1", "published", "no")]
    texts = {name: archive.read(name).decode() for name in archive.namelist()}
    assert texts[manifest[0]["file"]] == "# Spring launch\n\nApproved words.\n"  # not the edit
    assert not any("Not yet." in t or "Charlie" in t or "Edited" in t for t in texts.values())
    archive, manifest = _zip(viewer.get(
        reverse("workflow:export_released", args=[cast.ws.pk]) + "?which=published&fmt=txt"))
    assert [(r["title"], r["file"]) for r in manifest] == [("Summer sale", "summer-sale-v1.txt")]
    assert archive.read("summer-sale-v1.txt").decode() == "Summer sale\n\nSale words.\n"
    assert AuditEvent.objects.filter(workspace=cast.ws, action="documents.exported",
                                     actor=cast.vera).count() == 2


def test_a_bad_choice_says_what_to_ask_for(cast, docs):
    url = reverse("workflow:export_released", args=[cast.ws.pk])
    client = client_for(cast.vera)
    response = client.get(url + "?which=drafts")
    assert response.status_code == 400 and "approved or the published" in response.content.decode()
    response = client.get(url + "?fmt=pdf")
    assert response.status_code == 400 and "md, html or txt" in response.content.decode()
    assert not AuditEvent.objects.filter(action="documents.exported").exists()


def test_the_api_exports_the_same_versions(cast, docs):
    edited, published, draft, theirs = docs
    # An editor's read-only token: reading is enough.
    secret = token_services.token_create(membership=cast.bob_m, name="cms", role="viewer").secret
    client = client_for(cast.bob)
    got = client.get("/api/v1/workflow/released?which=approved",
                     HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert got.status_code == 200, got.content
    assert [(d["document"], d["version"], d["body"], d["edited_since"]) for d in got.json()] == [
        (edited.pk, 1, "Approved words.", True), (published.pk, 1, "Sale words.", False)]
    bad = client.get("/api/v1/workflow/released?which=everything",
                     HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert bad.status_code == 400 and json.loads(bad.content)["errors"] == {
        "which": "approved or published"}
