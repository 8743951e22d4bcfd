"""The rendered-page cache (copywriter/core/pagecache.py): repeat visits skip the queries and the
render, and no write, by anyone, through any path the product has, leaves a stale page behind."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from copywriter.core import pagecache
from copywriter.documents.models import Document
from copywriter.documents.services import document_create, document_save, document_trash
from tests.support.cast import client_for

pytestmark = pytest.mark.django_db

TOKEN = re.compile(rb'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')
ANY_TOKEN = re.compile(rb'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[A-Za-z0-9]+')


def _doc_pages(cast, doc):
    return [reverse("documents:list", args=[cast.ws.pk]),
            reverse("documents:edit", args=[cast.ws.pk, doc.pk])]


def _queries(client, url):
    with CaptureQueriesContext(connection) as q:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(q), response


def test_a_repeat_visit_runs_no_query_and_gets_its_own_working_csrf_token(cast, ad_template):
    doc = document_create(membership=cast.alice_m, title="Launch plan", body="Boots for spring.")
    client = client_for(cast.alice, csrf=True)
    # the first page of a session in a workspace records it in the session: not a page query
    client.get(reverse("documents:trash", args=[cast.ws.pk]))
    for url in [*_doc_pages(cast, doc), reverse("catalog:index", args=[cast.ws.pk]),
                reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk])]:
        first, page1 = _queries(client, url)
        second, page2 = _queries(client, url)
        assert second == 0 < first, (url, first, second)
        assert ANY_TOKEN.sub(b"", page1.content) == ANY_TOKEN.sub(b"", page2.content)
        assert pagecache.PLACEHOLDER.encode() not in page2.content
    # the token in a page served from the cache is this user's and works
    cached = client.get(reverse("documents:list", args=[cast.ws.pk])).content
    token = TOKEN.search(cached).group(1).decode()
    response = client.post(reverse("documents:create", args=[cast.ws.pk]),
                           {"title": "From a cached page", "csrfmiddlewaretoken": token})
    assert response.status_code == 302
    assert Document.objects.filter(title="From a cached page").exists()


def test_another_members_writes_show_at_once_in_the_cached_list_and_editor(cast):
    doc = document_create(membership=cast.alice_m, title="Launch plan", body="Boots for spring.")
    alice = client_for(cast.alice)
    list_url, edit_url = _doc_pages(cast, doc)
    for url in (list_url, edit_url):
        alice.get(url)
    # an edit through the service (a model save)
    document_save(membership=cast.bob_m, document_id=doc.pk, title="Launch plan v2",
                  body="Boots for autumn.", base_number=doc.head_number)
    assert b"Launch plan v2" in alice.get(list_url).content
    page = alice.get(edit_url).content
    assert b"Boots for autumn." in page and b"Version 2" in page
    # a new document, then trash and untrash (QuerySet.update paths)
    document_create(membership=cast.bob_m, title="Second doc")
    assert b"Second doc" in alice.get(list_url).content
    document_trash(membership=cast.bob_m, document_id=doc.pk)
    assert b"Launch plan v2" not in alice.get(list_url).content
    bob = client_for(cast.bob)
    assert bob.post(reverse("documents:untrash", args=[cast.ws.pk, doc.pk])).status_code == 302
    assert b"Launch plan v2" in alice.get(list_url).content


def test_a_write_that_bypasses_invalidation_is_seen_once_the_tokens_are_lost(cast):
    """The control for the tests above: without a new token the cache does serve the old page,
    and losing the shared cache (flush, restart) costs a render, never freshness."""
    doc = document_create(membership=cast.alice_m, title="Old title")
    alice = client_for(cast.alice)
    url = reverse("documents:list", args=[cast.ws.pk])
    alice.get(url)
    Document.objects.filter(pk=doc.pk).update(title="New title")  # no signal, no invalidate()
    assert b"Old title" in alice.get(url).content
    cache.clear()
    page = alice.get(url).content
    assert b"New title" in page and b"Old title" not in page


def test_roles_names_and_people_are_part_of_the_page(cast):
    from copywriter.workspaces.services import member_set_role, workspace_rename

    document_create(membership=cast.alice_m, title="Launch plan")
    bob = client_for(cast.bob)
    url = reverse("documents:list", args=[cast.ws.pk])
    assert b"New document" in bob.get(url).content
    member_set_role(membership=cast.alice_m, member_id=cast.bob_m.pk, role="viewer")
    assert b"New document" not in bob.get(url).content  # a viewer gets no create form
    workspace_rename(membership=cast.alice_m, name="Renamed space")
    assert b"Renamed space" in bob.get(url).content
    cast.alice.first_name = "Alice Liddell"
    cast.alice.save()
    assert b"Alice Liddell" in bob.get(url).content
    # each user gets their own page, never someone else's
    alice_page = client_for(cast.alice).get(url).content
    assert b"alice@example.com" in alice_page and b"bob@example.com" not in alice_page
    assert b"bob@example.com" in bob.get(url).content


def test_favourites_recent_templates_and_voices_refresh_the_catalog_and_form(cast, ad_template,
                                                                             sent):
    from copywriter.generation.services import generation_create
    from copywriter.voices.models import BrandVoice

    alice = client_for(cast.alice)
    index = reverse("catalog:index", args=[cast.ws.pk])
    detail = reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk])
    assert b"Recently used" not in alice.get(index).content
    assert b'aria-pressed="true"' not in alice.get(index).content
    alice.post(reverse("catalog:favourite", args=[cast.ws.pk, ad_template.pk]))
    assert b'aria-pressed="true"' in alice.get(index).content
    generation_create(membership=cast.alice_m, template=ad_template, tone="bold",
                      fields={"product": "Fernway hiking boots",
                              "benefit": "Waterproof leather, free returns"})
    assert b"Recently used" in alice.get(index).content
    assert b"Brand voice: Fernway" not in alice.get(detail).content
    BrandVoice.objects.create(workspace=cast.ws, name="Fernway", status="ready")
    assert b"Brand voice: Fernway" in alice.get(detail).content


def test_workspace_templates_and_one_time_messages(cast, ad_template):
    """A message after a redirect shows on the cached page once; a template made or deleted in
    the workspace shows at once."""
    from copywriter.catalog.services import workspace_template_save

    alice = client_for(cast.alice)
    index = reverse("catalog:index", args=[cast.ws.pk])
    assert b"Spring boots ad" not in alice.get(index).content
    mine = workspace_template_save(membership=cast.alice_m, data={
        **ad_template.current.data, "id": "spring-boots-ad", "title": "Spring boots ad"})
    assert b"Spring boots ad" in alice.get(index).content
    response = alice.post(reverse("catalog:delete", args=[cast.ws.pk, mine.pk]), follow=True)
    assert "Deleted \u201cSpring boots ad\u201d." in response.content.decode()
    after = alice.get(index).content.decode()
    assert "Deleted \u201c" not in after and "Spring boots ad" not in after


def test_htmx_partials_and_full_pages_are_kept_apart(cast):
    document_create(membership=cast.alice_m, title="Launch plan")
    alice = client_for(cast.alice)
    url = reverse("documents:list", args=[cast.ws.pk])
    partial = alice.get(url, headers={"HX-Request": "true", "HX-Target": "document-results"})
    full = alice.get(url)
    assert b"<html" not in partial.content and b"<html" in full.content
    again = alice.get(url, headers={"HX-Request": "true", "HX-Target": "document-results"})
    assert b"<html" not in again.content


def test_turned_off_or_unreachable_the_pages_are_rendered_every_time(cast, settings,
                                                                     monkeypatch):
    document_create(membership=cast.alice_m, title="Launch plan")
    alice = client_for(cast.alice)
    url = reverse("documents:list", args=[cast.ws.pk])
    alice.get(url)
    settings.PAGE_CACHE_SECONDS = 0
    assert _queries(alice, url)[0] == _queries(alice, url)[0] > 2

    settings.PAGE_CACHE_SECONDS = 300

    def down(*args, **kwargs):
        raise ConnectionError("cache down")

    alice.get(url)
    monkeypatch.setattr(cache, "get_many", down)
    first, page = _queries(alice, url)
    assert b"Launch plan" in page.content
    assert _queries(alice, url)[0] == first > 2


@pytest.mark.django_db(transaction=True)
def test_a_page_rendered_while_a_write_commits_is_not_served_after_it(cast):
    """Another process can render from the data committed before a write, after the write
    replaced the tokens: the second replacement, on commit, keeps that page from being served."""
    import threading

    from django.db import connections, transaction

    doc = document_create(membership=cast.alice_m, title="Before the write")
    alice = client_for(cast.alice)
    url = reverse("documents:list", args=[cast.ws.pk])
    seen: list[bytes] = []

    def visit() -> None:  # its own database connection: it sees only committed data
        try:
            seen.append(alice.get(url).content)
        finally:
            connections.close_all()

    with transaction.atomic():
        doc.title = "After the write"
        doc.save()
        reader = threading.Thread(target=visit)
        reader.start()
        reader.join()
    assert b"Before the write" in seen[0]
    assert b"After the write" in alice.get(url).content


def test_access_changes_count_from_the_next_request(cast):
    """The user row and the memberships every request checks are kept per process too: a
    removal, a password change or a deactivation must still count at once."""
    from copywriter.workspaces.services import member_remove

    doc = document_create(membership=cast.alice_m, title="Launch plan")
    urls = _doc_pages(cast, doc)
    bob, vera = client_for(cast.bob), client_for(cast.vera)
    for client in (bob, vera):
        for url in urls:
            assert client.get(url).status_code == 200
    member_remove(membership=cast.alice_m, member_id=cast.bob_m.pk)
    assert [bob.get(u).status_code for u in urls] == [404, 404]
    cast.vera.set_password("a brand new password 123")
    cast.vera.save()
    response = vera.get(urls[0])
    assert response.status_code == 302 and "/login" in response["Location"]
    charlie = client_for(cast.charlie)
    other = reverse("documents:list", args=[cast.other.pk])
    assert charlie.get(other).status_code == 200
    cast.charlie.is_active = False
    cast.charlie.save()
    assert charlie.get(other).status_code == 302


def test_requests_with_one_time_messages_neither_use_nor_fill_the_cache(cast, rf):
    from django.contrib import messages
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.cache import SessionStore
    from django.http import HttpResponse

    renders: list[str] = []

    def request(note: str = ""):
        r = rf.get("/page/")
        r.user, r.session = cast.alice, SessionStore()
        r._messages = FallbackStorage(r)
        if note:
            messages.info(r, note)
        return r

    @pagecache.cached_page(lambda request: ["test:page"])
    def page(request):
        renders.append("page")
        return HttpResponse(f"render {len(renders)}: " + " ".join(map(str, get_messages(request))))

    assert page(request()).content == b"render 1: "
    assert page(request()).content == b"render 1: "  # from the cache
    assert page(request("Saved.")).content == b"render 2: Saved."  # not the cached page
    assert page(request()).content == b"render 1: "  # and the page with the message was not kept

    @pagecache.cached_page(lambda request: ["test:noisy"])
    def noisy(request):  # adds its own message while rendering
        renders.append("noisy")
        messages.info(request, "Once.")
        return HttpResponse(" ".join(map(str, get_messages(request))))

    noisy(request())
    noisy(request())
    assert renders.count("noisy") == 2
