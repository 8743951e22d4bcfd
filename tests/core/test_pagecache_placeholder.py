"""Issue 18, item 14: the page cache puts each reader's CSRF token only where the template put
the token, never into text a user wrote (copywriter/core/pagecache.py)."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse

from copywriter.core import pagecache
from copywriter.documents.models import Document
from copywriter.documents.services import document_create
from tests.support.cast import client_for

pytestmark = pytest.mark.django_db

TEXTAREA = re.compile(r'<textarea id="doc-body"[^>]*>(.*?)</textarea>', re.S)
FORM_TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([A-Za-z0-9]+)"')


def _body_shown(page: bytes) -> str:
    return html.unescape(TEXTAREA.search(page.decode()).group(1))


def test_a_document_holding_the_placeholder_shows_it_verbatim_and_saving_keeps_it(cast):
    # the fixed part of the placeholder, and a placeholder-shaped string an attacker could make
    hostile = (f"a {pagecache.PLACEHOLDER} b {pagecache.PLACEHOLDER}{'0' * 32} c "
               f"{pagecache.PLACEHOLDER}{'f' * 32}")
    doc = document_create(membership=cast.alice_m, title="Bait", body=hostile)
    url = reverse("documents:edit", args=[cast.ws.pk, doc.pk])
    bob = client_for(cast.bob, csrf=True)
    miss, hit = bob.get(url), bob.get(url)  # rendered for the cache, then served from it
    for page in (miss, hit):
        assert page.status_code == 200
        token = FORM_TOKEN.search(page.content.decode()).group(1)
        shown = _body_shown(page.content)
        assert shown == hostile, "the reader's page changed the document's text"
        assert token not in shown
    # saving what the editor shows stores the text as written, not the reader's token
    response = bob.post(reverse("documents:save", args=[cast.ws.pk, doc.pk]),
                        {"title": "Bait", "body": _body_shown(hit.content),
                         "base_number": doc.head_number, "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)
    doc = Document.objects.get(pk=doc.pk)
    assert doc.body == hostile


def test_the_token_still_replaces_the_placeholder_where_the_template_put_it(cast):
    """The control: the cached page carries the reader's working token in the form and header."""
    doc = document_create(membership=cast.alice_m, title="Plain", body="Nothing odd.")
    url = reverse("documents:edit", args=[cast.ws.pk, doc.pk])
    bob = client_for(cast.bob, csrf=True)
    bob.get(url)
    page = bob.get(url).content.decode()
    token = FORM_TOKEN.search(page).group(1)
    assert pagecache.PLACEHOLDER not in page
    assert f'"X-CSRFToken": "{token}"' in page
    response = bob.post(reverse("documents:save", args=[cast.ws.pk, doc.pk]),
                        {"title": "Plain", "body": "Edited.", "base_number": doc.head_number,
                         "csrfmiddlewaretoken": token})
    assert response.status_code in (200, 302)
    assert Document.objects.get(pk=doc.pk).body == "Edited."
