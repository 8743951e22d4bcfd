"""The originality step inside the generation runner: variants are checked before they are
shown, flagged ones are rewritten a bounded number of times, and what is still flagged is stored
and shown with its flag and evidence."""

from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.documents.services import document_create
from copywriter.generation.models import Generation, Status
from copywriter.generation.services import generation_create
from copywriter.ml.engine import SeqResult
from copywriter.originality import indexing
from copywriter.originality.models import OriginalitySettings, Passage
from tests.support.engines import GenerateOnlyEngine, run_worker
from tests.support.originality_cases import CASES
from tests.support.templates import GOOD, builtin_template

pytestmark = pytest.mark.usefixtures("sent")


@pytest.fixture(autouse=True)
def _whole_variants(settings):
    """The scripted texts are whole variants (the search ad written as one sequence); slot
    items and their checks have their own tests (tests/generation/test_slots.py)."""
    settings.GENERATION_SLOTS = False


class ScriptedEngine(GenerateOnlyEngine):
    """Writes ``texts[seed]`` for each request (the seed a round uses tells rounds apart), so the
    runner's real code path runs with texts chosen by the test."""

    def __init__(self, texts_by_round: list[str]):
        self.rounds = texts_by_round
        self.calls: list[list[int | None]] = []
        self.adapter_paths: dict = {}

    def ensure_adapters(self, paths):  # pragma: no cover - neutral tone needs none
        pass

    def generate(self, requests, on_progress=None):
        self.calls.append([r.seed for r in requests])
        text = self.rounds[min(len(self.calls) - 1, len(self.rounds) - 1)]
        results = [SeqResult(key=r.key, text=text, tokens=len(text.split()), finish_reason="stop")
                   for r in requests]
        if on_progress is not None:
            on_progress(results)
        return results


@pytest.fixture
def boots_doc(cast, embeddings):
    doc = document_create(membership=cast.alice_m, title="Boots launch copy", body=CASES[0]["source"])
    indexing.index_document(doc.pk)
    return doc


def _run(cast, template, engine, *, variants=1):
    gen = generation_create(membership=cast.bob_m, template=template, fields=GOOD, tone="neutral",
                            variants=variants)
    run_worker(engine=engine, first_id=gen.pk)
    gen.refresh_from_db()
    assert gen.status == Status.DONE, gen.error
    return gen


def test_a_copied_variant_is_rewritten_and_the_original_one_is_kept(
        cast, ad_template, boots_doc):
    engine = ScriptedEngine([CASES[0]["light"], CASES[4]["unrelated"]])
    gen = _run(cast, ad_template, engine)
    v = gen.results.get()
    assert v.text == CASES[4]["unrelated"]
    assert v.originality["verdict"] == "original" and v.originality["regenerated"] == 1
    assert [a["verdict"] for a in v.originality["attempts"]] == ["copy", "original"]
    assert len(engine.calls) == 2 and engine.calls[1] != engine.calls[0]  # new seeds
    assert gen.timings["rewrites"] == 1 and "review_seconds" in gen.timings
    # the final variant is indexed for later checks; the rejected first draft is not
    rows = Passage.objects.filter(generation=gen)
    assert rows.exists() and all(r.text in CASES[4]["unrelated"] for r in rows)


def test_still_flagged_after_the_bounded_rewrites_is_shown_with_flag_and_evidence(
        cast, ad_template, boots_doc, alice_client):
    engine = ScriptedEngine([CASES[0]["source"], CASES[0]["light"], CASES[0]["partial"]])
    gen = _run(cast, ad_template, engine, variants=2)
    assert len(engine.calls) == 3  # the first batch + 2 rewrites, no more
    for v in gen.results.all():
        assert v.originality["verdict"] == "copy" and v.originality["regenerated"] == 2
        # the least copied of the three drafts is kept
        assert v.text == CASES[0]["partial"]
        assert v.originality["match"]["source"]["id"] == boots_doc.pk
    page = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    assert "Copy flag" in page and "rewritten 2 times" in page and "still flagged" in page
    assert "Boots launch copy" in page
    assert reverse("documents:edit", args=[cast.ws.pk, boots_doc.pk]) in page
    assert "<mark>A grippy Vibram outsole bites into wet rock and loose gravel alike.</mark>" in page


def test_regeneration_follows_the_workspace_settings(cast, ad_template, boots_doc):
    OriginalitySettings.objects.create(workspace=cast.ws, regenerate="copy")
    engine = ScriptedEngine([CASES[0]["heavy"], CASES[4]["unrelated"]])
    gen = _run(cast, ad_template, engine)
    v = gen.results.get()
    assert v.originality["verdict"] == "paraphrase" and v.originality["regenerated"] == 0
    assert len(engine.calls) == 1 and v.text == CASES[0]["heavy"]
    OriginalitySettings.objects.filter(workspace=cast.ws).update(regenerate="any", max_regenerations=0)
    gen = _run(cast, ad_template, ScriptedEngine([CASES[0]["light"]]))
    assert gen.results.get().originality["verdict"] == "copy"
    OriginalitySettings.objects.filter(workspace=cast.ws).update(check_generations=False)
    gen = _run(cast, ad_template, ScriptedEngine([CASES[0]["light"]]))
    v = gen.results.get()
    assert v.originality["verdict"] is None and "turned off" in v.originality["note"]


def test_other_workspaces_are_not_compared_in_the_runner(cast, ad_template, boots_doc,
                                                         charlie_client):
    from copywriter.generation.models import Generation as G

    engine = ScriptedEngine([CASES[0]["source"]])
    gen = generation_create(membership=cast.charlie_m, template=ad_template, fields=GOOD,
                            tone="neutral", variants=1)
    run_worker(engine=engine, first_id=gen.pk)
    v = G.objects.get(pk=gen.pk).results.get()
    assert v.originality["verdict"] == "original" and v.originality["matches"] == []
    page = charlie_client.get(reverse("generation:detail", args=[cast.other.pk, gen.pk])).content.decode()
    assert "Boots launch copy" not in page and "Original" in page


def test_a_failing_check_never_fails_the_generation(cast, ad_template, monkeypatch,
                                                    alice_client):
    def broken(items, **kw):
        raise RuntimeError("database went away")

    monkeypatch.setattr("copywriter.originality.search.check_texts", broken)
    gen = _run(cast, ad_template, ScriptedEngine(["Fresh words for a fresh boot."]))
    v = gen.results.get()
    assert v.text == "Fresh words for a fresh boot." and v.originality["verdict"] is None
    assert "not checked" in v.originality["error"]
    page = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    assert "Not checked" in page


def test_model_text_in_reports_is_escaped(cast, ad_template, embeddings, alice_client):
    evil = "<script>alert(1)</script> " + CASES[1]["source"]
    doc = document_create(membership=cast.alice_m, title="<b>Evil</b> doc", body=evil)
    indexing.index_document(doc.pk)
    OriginalitySettings.objects.create(workspace=cast.ws, max_regenerations=0)
    gen = _run(cast, ad_template, ScriptedEngine([evil]), variants=1)
    assert gen.results.get().originality["verdict"] == "copy"
    page = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    assert "<script>alert(1)</script>" not in page and "<b>Evil</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&lt;b&gt;Evil&lt;/b&gt; doc" in page


def test_tiny_model_end_to_end_copy_of_an_earlier_generation_is_rewritten(
        cast, ad_template, tiny_engine, embeddings):
    """The real engine (tiny random model): a second job with the same seed writes the same
    text, which the first job's indexed variant flags; the rewrite uses new seeds."""
    first = _run(cast, ad_template, tiny_engine)
    v1 = first.results.get()
    assert v1.originality["verdict"] == "original" and v1.originality["regenerated"] == 0
    assert Passage.objects.filter(generation=first).exists() or len(v1.text.split()) < 6
    if not Passage.objects.filter(generation=first).exists():
        pytest.skip("the tiny model wrote fewer than 6 words")
    gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone="neutral",
                            variants=1)
    Generation.objects.filter(pk=gen.pk).update(sampling=first.sampling)
    run_worker(engine=tiny_engine, first_id=gen.pk)
    gen.refresh_from_db()
    v2 = gen.results.get()
    attempts = v2.originality["attempts"]
    assert attempts[0]["verdict"] == "copy"  # the same text as the first job's variant
    assert 1 <= v2.originality["regenerated"] <= 2 and len(attempts) == v2.originality["regenerated"] + 1
    if v2.originality["verdict"] == "original":
        assert v2.text != v1.text
    else:  # still flagged: stored with its evidence, pointing at the earlier generation
        assert v2.originality["match"]["source"]["generation_id"] == first.pk


@pytest.fixture
def enrich_template(db):
    return builtin_template("seo/seo-keyword-enrich.yaml")


def test_the_requesters_own_copy_is_input_not_a_source_but_reference_texts_still_are(
        cast, enrich_template, boots_doc):
    """An SEO rewrite of a document matches that document: the document's text is what the
    user gave the template, so it is not evidence. The same text as a reference still is."""
    from copywriter.originality.services import reference_create

    def rewrite() -> Generation:
        gen = generation_create(membership=cast.bob_m, template=enrich_template, tone="neutral",
                                variants=1, fields={"copy": CASES[0]["source"],
                                                    "keywords": "waterproof walking boots"})
        run_worker(engine=ScriptedEngine([CASES[0]["light"]]), first_id=gen.pk)
        gen.refresh_from_db()
        return gen

    first = rewrite()
    v = first.results.get()
    assert v.originality["verdict"] == "original" and v.originality["regenerated"] == 0
    Passage.objects.filter(generation=first).delete()  # only the reference can match now
    ref = reference_create(workspace=cast.ws, title="Competitor page", text=CASES[0]["source"])
    indexing.index_reference(ref.pk)
    flagged = rewrite().results.get()
    assert flagged.originality["verdict"] == "copy"
    assert flagged.originality["match"]["source"]["title"] == "Competitor page"
