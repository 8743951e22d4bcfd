"""The SEO panel on documents and generation variants: analysis, saved keywords, workspace
lists, suggestions through the worker task, and enrichment end to end through the generation
runner on the tiny model (accept makes version N+1; a stale accept never overwrites)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.documents.models import Document, DocumentVersion, VersionKind
from copywriter.documents.services import document_create, document_save
from copywriter.generation.models import Generation, Status, Variant
from copywriter.seo import services, tasks
from copywriter.seo.models import DocumentKeywords, Enrichment, KeywordList
from tests.support.engines import run_worker
from tests.support.seo_texts import BOOTS, BOOTS_BRIEF, SAAS

pytestmark = pytest.mark.usefixtures("sent")


def as_saved(text: str) -> str:
    """A rewrite as a document stores it: trimmed, with the line endings documents keep (the
    tiny random model writes stray \r\n now and then)."""
    return text.strip().replace("\r\n", "\n")


@pytest.fixture
def no_suggest_enqueue(monkeypatch):
    sent: list[str] = []
    monkeypatch.setattr("copywriter.seo.services._enqueue_suggest", sent.append)
    return sent


@pytest.fixture(autouse=True)
def short_jobs(settings):
    """The tiny model writes noise: a few tokens show the flow as well as hundreds."""
    settings.GENERATION_MAX_NEW_TOKENS = 24


@pytest.fixture
def doc(cast):
    return document_create(membership=cast.alice_m, title="Fernway hiking boots", body=BOOTS)


def _panel(client, cast, doc, htmx=True, **params):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.get(reverse("seo:document_panel", args=[cast.ws.pk, doc.pk]), params, **headers)


def _ad_generation(cast, template, *, tone="witty", text=BOOTS):
    gen = Generation.objects.create(
        workspace=cast.ws, created_by=cast.alice, template=template,
        template_version=template.current, tone=tone, variants=1, status=Status.DONE,
        fields={"product": "Fernway hiking boots", "benefit": "Waterproof leather"}, prompt="p")
    Variant.objects.create(generation=gen, index=0, text=text, finished=True, tokens=90)
    return gen


def _run_worker(engine):
    """What a worker does with the queued jobs: claim them in a batch and run it."""
    pending = Generation.objects.filter(status=Status.QUEUED).order_by("pk")
    assert pending.exists()
    run_worker(engine=engine, first_id=pending[0].pk)


# --- the panel ------------------------------------------------------------------------------

def test_editor_page_loads_the_panel_and_the_panel_analyses(alice_client, cast, doc):
    page = alice_client.get(reverse("documents:edit", args=[cast.ws.pk, doc.pk])).content.decode()
    url = reverse("seo:document_panel", args=[cast.ws.pk, doc.pk])
    assert f'hx-get="{url}"' in page and f'href="{url}"' in page
    response = _panel(alice_client, cast, doc, keywords="hiking boots, trail running")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html  # the partial only
    assert 'id="seo-doc-' in html and "hiking boots" in html
    assert "missing" in html and "1 close variant" in html and "Flesch reading ease" in html
    assert "Enrich" in html and "Save for this document" in html
    full = _panel(alice_client, cast, doc, htmx=False, keywords="hiking boots")
    assert "<html" in full.content.decode() and "SEO: Fernway hiking boots" in full.content.decode()


def test_bad_keywords_get_a_message_and_the_typed_text_stays(alice_client, cast, doc):
    typed = "hiking boots, " + "x" * 90
    html = _panel(alice_client, cast, doc, keywords=typed).content.decode()
    assert "a keyword can be at most 80" in html
    assert f'value="{typed}"' in html


def test_viewer_analyses_but_cannot_save_or_enrich(vera_client, cast, doc):
    html = _panel(vera_client, cast, doc, keywords="hiking boots").content.decode()
    assert "Flesch reading ease" in html
    assert "Save for this document" not in html and "Enrich" not in html
    r = vera_client.post(reverse("seo:document_keywords", args=[cast.ws.pk, doc.pk]),
                         {"keywords": "hiking boots"})
    assert r.status_code == 403
    r = vera_client.post(reverse("seo:document_enrich", args=[cast.ws.pk, doc.pk]),
                         {"keywords": "trail running"})
    assert r.status_code == 403
    assert not DocumentKeywords.objects.exists() and not Enrichment.objects.exists()


def test_saved_keywords_come_back_with_the_document(bob_client, cast, doc):
    r = bob_client.post(reverse("seo:document_keywords", args=[cast.ws.pk, doc.pk]),
                        {"keywords": "hiking boots, Vibram sole"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "Keywords saved" in r.content.decode()
    assert DocumentKeywords.objects.get(document=doc).keywords == ["hiking boots", "Vibram sole"]
    html = _panel(bob_client, cast, doc).content.decode()
    assert 'value="hiking boots, Vibram sole"' in html


def test_keyword_lists_are_shared_in_the_workspace_only(bob_client, alice_client, charlie_client,
                                                        cast, doc):
    url = reverse("seo:lists", args=[cast.ws.pk])
    r = bob_client.post(url, {"name": "Boots", "keywords": "hiking boots, walking boots"},
                        HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "Saved the list" in r.content.decode()
    r = bob_client.post(url, {"name": "Boots", "keywords": "hiking boots, leather boots"})
    assert r.status_code == 302
    kl = KeywordList.objects.get(workspace=cast.ws)  # same name: replaced, not doubled
    assert kl.keywords == ["hiking boots", "leather boots"]
    r = bob_client.post(url, {"name": "", "keywords": "x"})
    assert r.status_code == 400 and "Give the keyword list a name" in r.content.decode()
    html = _panel(alice_client, cast, doc, list=kl.pk).content.decode()
    assert 'value="hiking boots, leather boots"' in html and "Boots (2)" in html
    # another workspace neither sees nor loads it
    assert "Boots" not in charlie_client.get(reverse("seo:lists", args=[cast.other.pk])).content.decode()
    other_doc = document_create(membership=cast.charlie_m, title="C", body="charlie copy here")
    r = charlie_client.get(reverse("seo:document_panel", args=[cast.other.pk, other_doc.pk]),
                           {"list": kl.pk})
    assert r.status_code == 404
    r = bob_client.post(reverse("seo:list_delete", args=[cast.ws.pk, kl.pk]))
    assert r.status_code == 302 and not KeywordList.objects.exists()


def test_suggestions_answer_with_yake_then_keybert_from_the_worker(alice_client, cast, ad_template,
                                                                  no_suggest_enqueue):
    gen = _ad_generation(cast, ad_template)
    url = reverse("seo:variant_suggest", args=[cast.ws.pk, gen.pk, 0])
    first = alice_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "YAKE; KeyBERT" in first and "hiking boots" in first and "?poll=1" in first
    alice_client.get(url, HTTP_HX_REQUEST="true")
    assert len(no_suggest_enqueue) == 1  # one task per text, however often the panel polls
    assert tasks.suggest(no_suggest_enqueue[0]) == "done"  # what the worker runs
    done = alice_client.get(url + "?poll=2", HTTP_HX_REQUEST="true").content.decode()
    assert "KeyBERT and YAKE" in done and "poll=" not in done
    assert "keybert + yake" in done or "yake + keybert" in done
    gave_up = services.suggestions_request(workspace_id=cast.ws.pk, text=SAAS, brief="")
    assert not gave_up.complete and gave_up.suggestions  # no worker: YAKE's list still answers
    html = alice_client.get(reverse("seo:variant_panel", args=[cast.ws.pk, gen.pk, 0])).content
    assert b"Suggest keywords from the brief and the copy" in html
    assert BOOTS_BRIEF  # the variant's brief is its generation's fields


def test_generation_page_links_each_finished_variant_to_its_panel(alice_client, cast, ad_template):
    gen = _ad_generation(cast, ad_template)
    html = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    url = reverse("seo:variant_panel", args=[cast.ws.pk, gen.pk, 0])
    assert f'href="{url}"' in html and f'hx-get="{url}"' in html
    panel = alice_client.get(url, {"keywords": "hiking boots"}, HTTP_HX_REQUEST="true").content
    assert b"Rewrites in the tone of this generation (witty)" in panel


# --- enrichment -----------------------------------------------------------------------------

def _doc_from_witty_variant(client, cast, template):
    gen = _ad_generation(cast, template, tone="witty")
    r = client.post(reverse("generation:save", args=[cast.ws.pk, gen.pk, 0]))
    assert r.status_code == 302
    return Document.objects.get(workspace=cast.ws, body=BOOTS)


def test_enrich_accept_end_to_end_on_a_document(bob_client, cast, ad_template,
                                                tiny_engine):
    doc = _doc_from_witty_variant(bob_client, cast, ad_template)
    assert services.document_source_tone(document=doc) == "witty"
    r = bob_client.post(reverse("seo:document_enrich", args=[cast.ws.pk, doc.pk]),
                        {"keywords": "hiking boots, trail running shoes, waterproof walking boots"},
                        HTTP_HX_REQUEST="true")
    assert r.status_code == 200, r.content.decode()[:500]
    e = Enrichment.objects.get()
    gen = e.generation
    assert gen.tone == "witty" and gen.template.slug == "seo-keyword-enrich"
    assert e.missing == ["trail running shoes", "waterproof walking boots"]
    assert gen.fields["keywords"] == "trail running shoes, waterproof walking boots"
    assert gen.fields["copy"] == BOOTS and e.base_number == 1 and gen.variants == 2
    assert "Writing" in r.content.decode() and f"enrichment-{e.pk}" in r.content.decode()
    _run_worker(tiny_engine)
    gen.refresh_from_db()
    assert gen.status == Status.DONE, gen.error
    url = reverse("seo:enrichment", args=[cast.ws.pk, e.pk])
    poll = bob_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"enrichment-{e.pk}")
    assert poll.status_code == 286  # done: polling stops
    html = poll.content.decode()
    assert "Before" in html and "After" in html and "Flesch reading ease" in html
    assert "<ins>" in html or "<del>" in html  # the word diff against the original
    assert "Accept: save as a new version" in html
    chosen = gen.results.get(index=0 if "name=\"index\" value=\"0\"" in html else 1)
    r = bob_client.post(reverse("seo:accept", args=[cast.ws.pk, e.pk]), {"index": chosen.index})
    assert r.status_code == 302
    doc.refresh_from_db()
    assert doc.head_number == 2 and doc.body == as_saved(chosen.text)
    head = DocumentVersion.objects.get(document=doc, number=2)
    assert head.kind == VersionKind.GENERATION and head.based_on == 1
    e.refresh_from_db()
    assert e.status == "accepted" and e.result_number == 2 and e.chosen_index == chosen.index
    kws = DocumentKeywords.objects.get(document=doc)
    assert kws.tone == "witty" and "trail running shoes" in kws.keywords
    again = bob_client.post(reverse("seo:accept", args=[cast.ws.pk, e.pk]), {"index": 0})
    assert again.status_code == 409 and "already decided" in again.content.decode()


def test_a_stale_accept_keeps_the_rewrite_as_a_conflict_copy(bob_client, cast, ad_template,
                                                            tiny_engine):
    doc = document_create(membership=cast.alice_m, title="Boots", body=BOOTS)
    e = services.enrichment_start_document(membership=cast.bob_m, document=doc,
                                           keywords=["trail running shoes"])
    assert e.tone == "neutral"  # not from a generation: the base model
    _run_worker(tiny_engine)
    # Alice edits the document while Bob reads the rewrite
    document_save(membership=cast.alice_m, document_id=doc.pk, title="Boots",
                  body=BOOTS + "\n\nNew: a vegan version.", base_number=1)
    r = bob_client.post(reverse("seo:accept", args=[cast.ws.pk, e.pk]), {"index": 0})
    assert r.status_code == 409
    assert "not</strong> applied" in r.content.decode()
    doc.refresh_from_db()
    assert doc.head_number == 2 and doc.body.endswith("a vegan version.")  # Alice's text stays
    kept = DocumentVersion.objects.get(document=doc, number=3)
    assert kept.kind == VersionKind.CONFLICT and kept.body == as_saved(e.generation.results.get(index=0).text)
    e.refresh_from_db()
    assert e.status == "conflict" and e.result_number == 3


def test_enrich_a_variant_and_accept_into_a_new_document(alice_client, cast, ad_template,
                                                         tiny_engine):
    gen = _ad_generation(cast, ad_template, tone="bold")
    r = alice_client.post(reverse("seo:variant_enrich", args=[cast.ws.pk, gen.pk, 0]),
                          {"keywords": "trail running shoes"})
    e = Enrichment.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/seo/enrichments/{e.pk}/")
    assert e.generation.tone == "bold" and e.source_generation == gen and e.source_index == 0
    _run_worker(tiny_engine)
    page = alice_client.get(reverse("seo:enrichment", args=[cast.ws.pk, e.pk])).content.decode()
    assert "Accept: save to a new document" in page
    before = Document.objects.count()
    r = alice_client.post(reverse("seo:accept", args=[cast.ws.pk, e.pk]), {"index": 1})
    assert r.status_code == 302 and Document.objects.count() == before + 1
    new = Document.objects.latest("pk")
    assert new.body == as_saved(e.generation.results.get(index=1).text)
    assert gen.results.get(index=0).text == BOOTS  # the variant itself is never changed
    assert DocumentKeywords.objects.get(document=new).tone == "bold"


def test_reject_leaves_the_document_alone(bob_client, cast, doc):
    e = services.enrichment_start_document(membership=cast.bob_m, document=doc,
                                           keywords=["trail running shoes"], tone="witty")
    assert e.generation.tone == "witty"  # the tone the user picked
    r = bob_client.post(reverse("seo:reject", args=[cast.ws.pk, e.pk]))
    assert r.status_code == 302
    e.refresh_from_db()
    doc.refresh_from_db()
    assert e.status == "rejected" and doc.head_number == 1 and doc.body == BOOTS
    assert e.generation.status == Status.CANCELLED  # it was still queued: no work wasted


def test_enrich_refuses_with_clear_messages(bob_client, cast, doc):
    url = reverse("seo:document_enrich", args=[cast.ws.pk, doc.pk])
    r = bob_client.post(url, {"keywords": "hiking boots"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "already appears" in r.content.decode()
    r = bob_client.post(url, {"keywords": ""}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "at least one keyword" in r.content.decode()
    r = bob_client.post(url, {"keywords": "vegan boots", "tone": "grumpy"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 400 and "Unknown tone" in r.content.decode()
    big = document_create(membership=cast.alice_m, title="Long", body=BOOTS * 8)
    r = bob_client.post(reverse("seo:document_enrich", args=[cast.ws.pk, big.pk]),
                        {"keywords": "vegan boots"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 413 and "up to 4,000 characters" in r.content.decode()
    assert 'value="vegan boots"' in r.content.decode()  # what was typed is still there
    assert not Enrichment.objects.exists() and not Generation.objects.exists()


def test_twelve_long_missing_keywords_fit_the_enrichment_template(cast, doc):
    keywords = [f"long keyword phrase number {i} about waterproof trail gear xx"[:80] for i in range(12)]
    e = services.enrichment_start_document(membership=cast.bob_m, document=doc, keywords=keywords)
    assert len(e.missing) == 12 and len(e.generation.fields["keywords"]) > 300


def test_a_failed_enrichment_can_be_dismissed(bob_client, cast, doc):
    e = services.enrichment_start_document(membership=cast.bob_m, document=doc,
                                           keywords=["trail running shoes"])
    Generation.objects.filter(pk=e.generation_id).update(status=Status.FAILED,
                                                         error="no trained adapter")
    html = _panel(bob_client, cast, doc).content.decode()
    assert "Failed" in html and "no trained adapter" in html and "Dismiss" in html
    assert bob_client.post(reverse("seo:reject", args=[cast.ws.pk, e.pk])).status_code == 302
    html = _panel(bob_client, cast, doc, keywords="trail running shoes").content.decode()
    assert "Dismiss" not in html and "Enrich: weave in" in html
