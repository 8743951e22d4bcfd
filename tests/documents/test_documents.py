from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.documents import services
from copywriter.documents.models import Document, DocumentVersion, VersionKind


def _doc(cast, title="Launch plan", body="First line\nSecond line"):
    return services.document_create(membership=cast.alice_m, title=title, body=body)


def _save(client, cast, doc, *, body, base, title=None, htmx=False):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(reverse("documents:save", args=[cast.ws.pk, doc.pk]),
                       {"title": title or doc.title, "body": body, "base_number": base}, **headers)


def test_create_from_list_opens_editor(alice_client, cast):
    response = alice_client.post(reverse("documents:create", args=[cast.ws.pk]), {"title": "Q3 ads"})
    doc = Document.objects.get(title="Q3 ads")
    assert response.status_code == 302
    assert response["Location"] == reverse("documents:edit", args=[cast.ws.pk, doc.pk])
    assert doc.versions.count() == 1 and doc.head_number == 1


def test_autosave_makes_a_version_and_returns_the_status_partial(bob_client, cast):
    doc = _doc(cast)
    response = _save(bob_client, cast, doc, body="Edited by Bob", base=1, htmx=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Saved version 2" in html
    assert "<html" not in html  # a fragment, not the page
    assert 'id="base-number" value="2" hx-swap-oob="true"' in html
    doc.refresh_from_db()
    assert doc.body == "Edited by Bob" and doc.head_number == 2
    assert doc.versions.get(number=2).author == cast.bob


def test_saving_unchanged_text_makes_no_version(bob_client, cast):
    doc = _doc(cast)
    _save(bob_client, cast, doc, body=doc.body, base=1, htmx=True)
    assert doc.versions.count() == 1


def test_stale_save_is_a_conflict_that_keeps_both_texts(alice_client, bob_client, cast):
    doc = _doc(cast)
    assert _save(alice_client, cast, doc, body="Alice's rewrite", base=1).status_code == 302
    response = _save(bob_client, cast, doc, body="Bob's rewrite", base=1, htmx=True)
    assert response.status_code == 409
    assert response["HX-Retarget"] == "#conflict"
    html = response.content.decode()
    assert "Alice&#x27;s rewrite" in html and "Bob&#x27;s rewrite" in html
    doc.refresh_from_db()
    assert doc.body == "Alice's rewrite"  # never silently overwritten
    conflict = doc.versions.get(kind=VersionKind.CONFLICT)
    assert conflict.body == "Bob's rewrite" and conflict.based_on == 1
    # Bob keeps his version explicitly: it becomes the head as a new version.
    alice_text_version = doc.head_number
    bob_client.post(reverse("documents:restore", args=[cast.ws.pk, doc.pk, conflict.number]))
    doc.refresh_from_db()
    assert doc.body == "Bob's rewrite"
    assert doc.versions.get(number=alice_text_version).body == "Alice's rewrite"


def test_repeated_conflicting_autosaves_refresh_one_conflict_copy(alice_client, bob_client, cast):
    doc = _doc(cast)
    _save(alice_client, cast, doc, body="Alice", base=1)
    _save(bob_client, cast, doc, body="Bob typing", base=1, htmx=True)
    _save(bob_client, cast, doc, body="Bob typing more", base=1, htmx=True)
    conflicts = doc.versions.filter(kind=VersionKind.CONFLICT)
    assert [c.body for c in conflicts] == ["Bob typing more"]


def test_non_htmx_conflict_renders_the_full_page_with_409(alice_client, bob_client, cast):
    doc = _doc(cast)
    _save(alice_client, cast, doc, body="A", base=1)
    response = _save(bob_client, cast, doc, body="B", base=1)
    assert response.status_code == 409
    assert b"Someone saved this document while you were editing" in response.content
    assert b"<html" in response.content


def test_history_diff_and_restore(alice_client, cast):
    doc = _doc(cast, body="one\ntwo\nthree")
    services.document_save(membership=cast.alice_m, document_id=doc.pk, title=doc.title,
                           body="one\nTWO\nthree", base_number=1)
    page = alice_client.get(reverse("documents:version", args=[cast.ws.pk, doc.pk, 1]))
    html = page.content.decode()
    assert '<div class="del">two</div>' in html and '<div class="add">TWO</div>' in html
    alice_client.post(reverse("documents:restore", args=[cast.ws.pk, doc.pk, 1]))
    doc.refresh_from_db()
    assert doc.body == "one\ntwo\nthree" and doc.head_number == 3
    assert doc.versions.get(number=3).kind == VersionKind.RESTORE
    history = alice_client.get(reverse("documents:history", args=[cast.ws.pk, doc.pk]))
    assert history.content.decode().count("View and compare") == 3


@pytest.mark.parametrize("fmt,ctype,needle", [
    ("md", "text/markdown", "# <Plan>\n\nUse <b>bold</b> & more"),
    ("txt", "text/plain", "<Plan>\n\nUse <b>bold</b> & more"),
    ("html", "text/html", "<h1>&lt;Plan&gt;</h1>"),
])
def test_export_formats(alice_client, cast, fmt, ctype, needle):
    doc = _doc(cast, title="<Plan>", body="Use <b>bold</b> & more")
    response = alice_client.get(reverse("documents:export", args=[cast.ws.pk, doc.pk, fmt]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith(ctype)
    assert needle in response.content.decode()
    assert f'.{fmt}"' in response["Content-Disposition"]
    if fmt == "html":
        assert "<b>bold</b>" not in response.content.decode()


def test_unknown_export_format_is_404(alice_client, cast):
    doc = _doc(cast)
    assert alice_client.get(reverse("documents:export", args=[cast.ws.pk, doc.pk, "exe"])).status_code == 404


def test_trash_and_restore_keep_versions(alice_client, cast):
    doc = _doc(cast)
    alice_client.post(reverse("documents:trash_doc", args=[cast.ws.pk, doc.pk]))
    assert alice_client.get(reverse("documents:edit", args=[cast.ws.pk, doc.pk])).status_code == 404
    assert doc.title in alice_client.get(reverse("documents:trash", args=[cast.ws.pk])).content.decode()
    assert doc.title not in alice_client.get(reverse("documents:list", args=[cast.ws.pk])).content.decode()
    alice_client.post(reverse("documents:untrash", args=[cast.ws.pk, doc.pk]))
    assert alice_client.get(reverse("documents:edit", args=[cast.ws.pk, doc.pk])).status_code == 200
    assert DocumentVersion.objects.filter(document=doc).count() == 1


def test_search_and_sort_with_htmx_partial(alice_client, cast):
    _doc(cast, title="Banana bread launch", body="oven")
    _doc(cast, title="Apple pie", body="Cinnamon and banana notes")
    _doc(cast, title="Cherry", body="nothing")
    response = alice_client.get(reverse("documents:list", args=[cast.ws.pk]),
                                {"q": "banana", "sort": "title"},
                                HTTP_HX_REQUEST="true", HTTP_HX_TARGET="document-results")
    html = response.content.decode()
    assert "<html" not in html
    assert html.index("Apple pie") < html.index("Banana bread launch")
    assert "Cherry" not in html
    full = alice_client.get(reverse("documents:list", args=[cast.ws.pk]), {"q": "zzz"})
    assert "No document matches" in full.content.decode()


def test_document_over_the_size_limit_is_refused_with_413(bob_client, cast, settings):
    settings.DOCUMENT_MAX_CHARS = 100
    doc = _doc(cast, body="short")
    response = _save(bob_client, cast, doc, body="x" * 101, base=1, htmx=True)
    assert response.status_code == 413
    assert "the limit is 100" in response.content.decode()
    doc.refresh_from_db()
    assert doc.body == "short"


def test_viewer_sees_read_only_editor(vera_client, cast):
    doc = _doc(cast)
    html = vera_client.get(reverse("documents:edit", args=[cast.ws.pk, doc.pk])).content.decode()
    assert "readonly" in html and "ask an owner for the editor role" in html


def test_navigation_marks_the_current_section(alice_client, cast):
    html = alice_client.get(reverse("documents:list", args=[cast.ws.pk])).content.decode()
    assert f'href="/w/{cast.ws.pk}/documents/" aria-current="page">Documents' in html


def test_autosave_after_logout_keeps_the_page_and_says_why(cast):
    from django.test import Client

    doc = _doc(cast)
    response = Client().post(reverse("documents:save", args=[cast.ws.pk, doc.pk]),
                             {"title": "t", "body": "unsaved words", "base_number": 1},
                             HTTP_HX_REQUEST="true")
    assert response.status_code == 401
    assert "You were logged out" in response.content.decode()
    doc.refresh_from_db()
    assert doc.head_number == 1
