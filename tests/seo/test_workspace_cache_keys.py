"""Issue 18, item 15: what one workspace put in the shared cache never answers another
workspace's request (the KeyBERT suggestion cache was keyed by the text alone)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.documents.services import document_create
from copywriter.seo import services, suggestions
from tests.support.cast import client_for

pytestmark = pytest.mark.django_db

SECRET = ("Our spring launch: the Quillfeather waterproof boot, priced at 89 euros, ships on "
          "March 3rd to our newsletter subscribers first, with free returns for thirty days.")
MARKER = "keybert-only-marker"


@pytest.fixture
def worker_answers_at_once(monkeypatch):
    """The seo.suggest task runs at once with a fake KeyBERT (no torch), so the only thing
    between a request and a complete answer is the cache."""
    real = suggestions.suggest_keywords

    def fake(text, brief="", n=8, *, keybert=True):
        found = real(text, brief, n, keybert=False)
        if keybert:
            found.insert(0, suggestions.Suggestion(MARKER, 1.0, ["keybert"], False, False))
        return found

    monkeypatch.setattr(suggestions, "suggest_keywords", fake)
    monkeypatch.setattr(services, "_enqueue_suggest",
                        lambda key: services.suggestions_compute(key=key))


def test_another_workspace_cannot_confirm_a_guess_of_my_text_through_suggestions(
        cast, worker_answers_at_once):
    mine = document_create(membership=cast.alice_m, title="Launch", body=SECRET)
    alice = client_for(cast.alice)
    url = reverse("seo:document_suggest", args=[cast.ws.pk, mine.pk])
    alice.get(url)
    assert MARKER in alice.get(url).content.decode(), "the control: my own answer is cached"
    # an outsider types an exact guess of the text into a document of their own workspace
    guess = document_create(membership=cast.charlie_m, title="Guess", body=SECRET)
    charlie = client_for(cast.charlie)
    page = charlie.get(reverse("seo:document_suggest", args=[cast.other.pk, guess.pk]))
    assert page.status_code == 200
    assert MARKER not in page.content.decode()
    assert "KeyBERT and YAKE" not in page.content.decode(), "a complete answer confirms the guess"


def test_suggestion_keys_name_the_workspace():
    a = services._suggest_key(1, SECRET, "")
    b = services._suggest_key(2, SECRET, "")
    assert a != b and a.startswith("1:") and b.startswith("2:")
