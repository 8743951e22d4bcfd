"""Originality in the web process: the document check button and its polled report, the
reference texts page, the settings page, and the indexing hooks of document saves."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from copywriter.documents.services import document_create, document_save
from copywriter.originality import indexing, tasks
from copywriter.originality.models import OriginalityCheck, OriginalitySettings, ReferenceItem
from copywriter.originality.text import Thresholds
from tests.support.originality_cases import CASES

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def docs(cast, embeddings):
    source = document_create(membership=cast.alice_m, title="Bakery <homepage>", body=CASES[10]["source"])
    indexing.index_document(source.pk)
    draft = document_create(membership=cast.bob_m, title="New flyer", body=CASES[10]["light"])
    return source, draft


def test_editor_page_has_the_check_button_for_every_member(cast, docs, vera_client):
    _, draft = docs
    page = vera_client.get(reverse("documents:edit", args=[cast.ws.pk, draft.pk])).content.decode()
    url = reverse("originality:check", args=[cast.ws.pk, draft.pk])
    assert f'hx-post="{url}"' in page and f'action="{url}"' in page and "Check originality" in page
    assert 'id="originality-check"' in page


def test_check_runs_on_a_worker_and_the_page_polls_until_done(cast, docs, enqueued, vera_client,
                                                             django_capture_on_commit_callbacks):
    source, draft = docs
    url = reverse("originality:check", args=[cast.ws.pk, draft.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = vera_client.post(url, **HTMX)
    check = OriginalityCheck.objects.get()
    assert response.status_code == 200
    assert ("check_document", (check.pk,)) in enqueued
    poll = reverse("originality:check_detail", args=[cast.ws.pk, check.pk])
    html = response.content.decode()
    assert f'hx-get="{poll}"' in html and 'hx-trigger="every 1s"' in html and "Waiting for a worker" in html
    # a second click while it waits returns the same check
    vera_client.post(url, **HTMX)
    assert OriginalityCheck.objects.count() == 1
    # the worker runs it (the task function, called directly)
    assert tasks.check_document.run(check.pk) == "copy"
    done = vera_client.get(poll, HTTP_HX_TARGET="originality-check", **HTMX)
    assert done.status_code == 286
    html = done.content.decode()
    assert "Copy flag" in html and "Bakery &lt;homepage&gt;" in html
    assert reverse("documents:edit", args=[cast.ws.pk, source.pk]) in html
    assert "hx-trigger" not in html
    # the full page works without htmx, and a redelivered task changes nothing
    assert "Copy flag" in vera_client.get(poll).content.decode()
    assert tasks.check_document.run(check.pk) == "done"


def test_check_without_htmx_redirects_to_the_report_page(cast, docs, enqueued, bob_client):
    _, draft = docs
    response = bob_client.post(reverse("originality:check", args=[cast.ws.pk, draft.pk]))
    check = OriginalityCheck.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("originality:check_detail", args=[cast.ws.pk, check.pk])
    assert check.document_version == draft.head_number and check.created_by == cast.bob


def test_checks_are_rate_limited_per_workspace(cast, docs, enqueued, bob_client, monkeypatch):
    monkeypatch.setattr("copywriter.originality.services.CHECKS_PER_MINUTE", 2)
    source, draft = docs
    for doc in (source, draft):
        assert bob_client.post(reverse("originality:check", args=[cast.ws.pk, doc.pk]), **HTMX).status_code == 200
    other = document_create(membership=cast.bob_m, title="Third", body="More words here.")
    response = bob_client.post(reverse("originality:check", args=[cast.ws.pk, other.pk]), **HTMX)
    assert response.status_code == 429 and "wait a minute" in response.content.decode()


def test_failed_check_says_so(cast, docs, enqueued, bob_client, monkeypatch):
    _, draft = docs
    bob_client.post(reverse("originality:check", args=[cast.ws.pk, draft.pk]))
    check = OriginalityCheck.objects.get()

    def broken(**kw):
        raise RuntimeError("boom")

    monkeypatch.setattr("copywriter.originality.search.check_text", broken)
    monkeypatch.setattr(tasks.check_document, "max_retries", 0)
    assert tasks.check_document.run(check.pk) == "failed"
    page = bob_client.get(reverse("originality:check_detail", args=[cast.ws.pk, check.pk])).content.decode()
    assert "Failed" in page and "Try again" in page


def test_saving_a_document_enqueues_indexing_once_per_burst(cast, enqueued,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        doc = document_create(membership=cast.alice_m, title="Notes", body="First words.")
    with django_capture_on_commit_callbacks(execute=True):
        document_save(membership=cast.alice_m, document_id=doc.pk, title="Notes",
                      body="First words. Second words.", base_number=1)
    assert enqueued == [("index_document", (doc.pk,))]  # autosave burst: one task
    from django.core.cache import cache

    cache.delete(f"orig-index-doc:{doc.pk}")
    with django_capture_on_commit_callbacks(execute=True):
        document_save(membership=cast.alice_m, document_id=doc.pk, title="Notes",
                      body="First words. Second words. Third.", base_number=2)
    assert enqueued == [("index_document", (doc.pk,))] * 2


def test_a_broker_that_is_down_does_not_fail_the_save(cast, monkeypatch,
                                                      django_capture_on_commit_callbacks):
    def down(*a, **kw):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.index_document, "apply_async", down)
    with django_capture_on_commit_callbacks(execute=True):
        doc = document_create(membership=cast.alice_m, title="Notes", body="Words.")
    assert doc.pk


# --- reference texts --------------------------------------------------------------------------

def test_paste_and_upload_reference_texts(cast, enqueued, bob_client,
                                          django_capture_on_commit_callbacks):
    url = reverse("originality:references", args=[cast.ws.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = bob_client.post(url, {"title": "", "text": "Rival pitch\nOur rivals say this."})
    assert response.status_code == 302
    item = ReferenceItem.objects.get()
    assert item.title == "Rival pitch" and item.workspace_id == cast.ws.pk and item.created_by == cast.bob
    assert enqueued == [("index_reference", (item.pk,))]
    files = [SimpleUploadedFile("a.md", b"# Old campaign\n\nSpring sale on all boots."),
             SimpleUploadedFile("b.txt", "\ufeffPlain text file.".encode())]
    with django_capture_on_commit_callbacks(execute=True):
        bob_client.post(url, {"title": "", "text": "", "files": files})
    assert sorted(ReferenceItem.objects.values_list("source_name", flat=True)) == ["", "a.md", "b.txt"]
    assert ReferenceItem.objects.get(source_name="b.txt").text == "Plain text file."
    page = bob_client.get(url).content.decode()
    assert "Rival pitch" in page and "Indexing" in page
    detail = bob_client.get(reverse("originality:reference", args=[cast.ws.pk, item.pk]))
    assert "Our rivals say this." in detail.content.decode()


@pytest.mark.parametrize("data,message", [
    ({"text": "  "}, "Paste a text or choose one or more .txt or .md files."),
    ({"files": [SimpleUploadedFile("x.pdf", b"%PDF-1.4")]}, "only .txt and .md files"),
    ({"files": [SimpleUploadedFile("x.txt", b"\xff\xfe caf\xe9")]}, "is not UTF-8 text"),
    ({"files": [SimpleUploadedFile("x.txt", b"   ")]}, "x.txt is empty"),
    ({"files": [SimpleUploadedFile("x.txt", b"\x00\x01binary")]}, "is not a text file"),
    ({"text": "x" * 200_001}, "the limit is 200,000"),
])
def test_bad_reference_input_gets_a_message_and_stores_nothing(cast, bob_client, enqueued, data, message):
    data = {"title": "T", **data}
    if "files" in data:
        for f in data["files"]:
            f.seek(0)
    response = bob_client.post(reverse("originality:references", args=[cast.ws.pk]), data)
    assert response.status_code in (400, 413)
    assert message in response.content.decode()
    assert not ReferenceItem.objects.exists() and not enqueued


def test_one_bad_file_stores_none_of_the_batch(cast, bob_client, enqueued):
    files = [SimpleUploadedFile("good.txt", b"Fine text."), SimpleUploadedFile("bad.doc", b"x")]
    response = bob_client.post(reverse("originality:references", args=[cast.ws.pk]), {"files": files})
    assert response.status_code == 400 and "bad.doc" in response.content.decode()
    assert not ReferenceItem.objects.exists()


def test_viewers_read_reference_texts_but_cannot_change_them(cast, vera_client, bob_client):
    item = ReferenceItem.objects.create(workspace=cast.ws, title="Kept", text="Body")
    url = reverse("originality:references", args=[cast.ws.pk])
    assert "Kept" in vera_client.get(url).content.decode()
    assert "Add reference texts" not in vera_client.get(url).content.decode()
    assert vera_client.post(url, {"text": "x"}).status_code == 403
    delete = reverse("originality:reference_delete", args=[cast.ws.pk, item.pk])
    assert vera_client.post(delete).status_code == 403
    assert bob_client.post(delete).status_code == 302 and not ReferenceItem.objects.exists()


def test_global_reference_texts_are_listed_but_not_deletable(cast, bob_client, charlie_client):
    item = ReferenceItem.objects.create(workspace=None, title="Industry boilerplate", text="Body")
    own_other = ReferenceItem.objects.create(workspace=cast.other, title="Charlie's rival", text="B")
    page = bob_client.get(reverse("originality:references", args=[cast.ws.pk])).content.decode()
    assert "1 shared reference text" in page and "Charlie's rival" not in page
    assert bob_client.get(reverse("originality:reference", args=[cast.ws.pk, item.pk])).status_code == 200
    response = bob_client.post(reverse("originality:reference_delete", args=[cast.ws.pk, item.pk]))
    assert response.status_code == 302 and ReferenceItem.objects.filter(pk=item.pk).exists()
    # another workspace's item is a 404 under my workspace's URL
    assert bob_client.get(reverse("originality:reference", args=[cast.ws.pk, own_other.pk])).status_code == 404


# --- settings ---------------------------------------------------------------------------------

def test_owner_changes_thresholds_from_the_members_page(cast, alice_client):
    members = alice_client.get(reverse("workspaces:members", args=[cast.ws.pk])).content.decode()
    url = reverse("originality:settings", args=[cast.ws.pk])
    assert url in members
    assert f'value="{Thresholds().paraphrase}"' in alice_client.get(url).content.decode()
    response = alice_client.post(url, {"paraphrase_threshold": "0.9", "copy_threshold": "0,5",
                                       "check_generations": "on", "regenerate": "copy",
                                       "max_regenerations": "1"})
    assert response.status_code == 302
    row = OriginalitySettings.objects.get(workspace=cast.ws)
    assert (row.paraphrase_threshold, row.copy_threshold, row.regenerate, row.max_regenerations,
            row.check_generations, row.updated_by) == (0.9, 0.5, "copy", 1, True, cast.alice)


@pytest.mark.parametrize("data,message", [
    ({"paraphrase_threshold": "high"}, "The similarity threshold must be a number"),
    ({"paraphrase_threshold": "1.5"}, "between 0.50 and 0.99"),
    ({"copy_threshold": "0"}, "between 0.10 and 1.00"),
    ({"regenerate": "always"}, "Choose when to regenerate"),
    ({"max_regenerations": "9"}, "at most 3 times"),
    ({"max_regenerations": "-1"}, "whole number from 0 to 3"),
])
def test_bad_settings_get_a_message_and_keep_what_was_typed(cast, alice_client, data, message):
    form = {"paraphrase_threshold": "0.8", "copy_threshold": "0.4", "regenerate": "any",
            "max_regenerations": "2", **data}
    response = alice_client.post(reverse("originality:settings", args=[cast.ws.pk]), form)
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html and f'value="{form["paraphrase_threshold"]}"' in html
    assert not OriginalitySettings.objects.exists()


def test_only_owners_change_settings(cast, bob_client, vera_client):
    url = reverse("originality:settings", args=[cast.ws.pk])
    page = vera_client.get(url).content.decode()
    assert "Only owners can change" in page and "<fieldset disabled>" in page
    assert bob_client.post(url, {"paraphrase_threshold": "0.6"}).status_code == 403
    assert not OriginalitySettings.objects.exists()
