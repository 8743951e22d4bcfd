"""The originality check against the database: verdicts on texts written for the purpose
(tests/support/originality_cases.py), what is compared against, and privacy between workspaces."""

from __future__ import annotations

import json

import numpy as np
import pytest

from copywriter.documents.models import Document
from copywriter.documents.services import document_create, document_save
from copywriter.originality import indexing, search
from copywriter.originality.models import Passage, ReferenceItem, SourceKind
from copywriter.originality.services import reference_create
from tests.support.originality_cases import CASES, EXPECTED, query
from tests.support.report import report


@pytest.fixture
def corpus(cast, embeddings):
    """Alice's workspace holds every case's source as a document."""
    docs = {}
    for case in CASES:
        doc = document_create(membership=cast.alice_m, title=f"{case['name'].title()} page",
                              body=case["source"])
        indexing.index_document(doc.pk)
        docs[case["name"]] = doc
    return docs


def check(ws, text, **exclude):
    return search.check_text(workspace_id=ws.pk, text=text, exclude=search.Exclude(**exclude))


@pytest.mark.parametrize("category", ["exact", "partial", "light", "related", "unrelated"])
def test_verdict_for_every_case(cast, corpus, category):
    """Copies (exact, one copied sentence, a few words changed) are copy flags, with the source
    named; independently written copy on the same subject and unrelated copy are original."""
    wrong = []
    for case in CASES:
        rep = check(cast.ws, query(case, category))
        if rep["verdict"] != EXPECTED[category]:
            wrong.append((case["name"], rep["verdict"], rep["score"]))
        if EXPECTED[category] == "copy":
            assert rep["match"]["source"]["id"] == corpus[case["name"]].pk
            assert rep["match"]["source"]["kind"] == "document"
            assert rep["overlap"] > 0
    assert not wrong, wrong
    report(f"originality verdicts: {category}: {len(CASES)}/{len(CASES)} {EXPECTED[category]}")


def test_heavy_paraphrase_is_told_apart_from_copying(cast, corpus):
    """Heavy paraphrases share no 5-word run with their source: never a copy flag. Checked
    without a brief (as a document is), these four-sentence rewrites are mostly notes, not
    flags: issue 17's decision needs most of a text to follow one source in order, and without
    the brief a sentence must reach 0.81 on its own (docs/originality.md: 1 of 12 flagged, 5
    notes; with the brief, 9 of 12 held-out heavy revisions are flagged)."""
    verdicts = {case["name"]: check(cast.ws, case["heavy"]) for case in CASES}
    assert all(r["verdict"] != "copy" for r in verdicts.values())
    shown = [n for n, r in verdicts.items() if r["verdict"] in ("note", "paraphrase")]
    assert len(shown) >= 6, shown
    boots = verdicts["hiking boots"]
    assert boots["verdict"] == "note" and boots["overlap"] == 0
    assert boots["match"]["source"]["title"] == "Hiking Boots page"
    assert boots["match"]["similarity"] >= 0.82 and boots["match"]["span_overlap"] == 0
    flagged = [n for n, r in verdicts.items() if r["verdict"] == "paraphrase"]
    report(f"originality verdicts: heavy paraphrase without a brief: {len(flagged)}/{len(CASES)} "
           f"flagged, {len(shown) - len(flagged)} notes, 0 as copies")


def test_report_points_at_spans_on_both_sides(cast, corpus):
    case = CASES[1]  # coffee: one copied sentence between two new ones
    rep = check(cast.ws, case["partial"])
    m = rep["match"]
    copied = "We roast each batch on Monday and ship it on Tuesday"
    text_span = case["partial"][m["text_span"]["start"]:m["text_span"]["end"]]
    source_span = case["source"][m["source_span"]["start"]:m["source_span"]["end"]]
    assert copied in text_span and copied in source_span
    assert "".join(s for s, _ in m["text_span"]["segments"]) == text_span
    assert any(shared and copied in s for s, shared in m["text_span"]["segments"])
    assert m["span_overlap"] == 1.0 and 0 < rep["overlap"] < 1


def test_privacy_another_workspace_never_matches_counts_or_reveals(cast, corpus):
    """Charlie checks a text identical to Alice's document in his own workspace: original, no
    match, and nothing of Alice's (title, text, ids) in his report."""
    alice_text = CASES[0]["source"]
    rep = check(cast.other, alice_text)
    assert rep["verdict"] == "original" and rep["matches"] == [] and rep["match"] is None
    assert rep["score"] == 0.0  # not even a similarity leaks
    dumped = json.dumps(rep)
    assert "Hiking Boots page" not in dumped and "Fernway" not in dumped
    # and the same text in Alice's workspace is a copy of her document
    assert check(cast.ws, alice_text)["verdict"] == "copy"
    # Charlie's own document is compared against in his workspace, never in Alice's
    own = document_create(membership=cast.charlie_m, title="Charlie's unique", body=CASES[5]["source"])
    indexing.index_document(own.pk)
    assert check(cast.other, CASES[5]["light"])["match"]["source"]["id"] == own.pk
    alice_view = check(cast.ws, CASES[5]["light"])
    assert all(m["source"].get("id") != own.pk for m in alice_view["matches"])
    assert "Charlie's unique" not in json.dumps(alice_view)


def test_global_reference_texts_are_compared_for_every_workspace(cast, embeddings):
    item = reference_create(workspace=None, title="Competitor boots page", text=CASES[0]["source"])
    indexing.index_reference(item.pk)
    for ws in (cast.ws, cast.other):
        rep = check(ws, CASES[0]["light"])
        assert rep["verdict"] == "copy"
        assert rep["match"]["source"] == {"kind": "reference", "id": item.pk,
                                          "title": "Competitor boots page", "global": True}


def test_a_workspace_reference_text_stays_in_its_workspace(cast, embeddings):
    item = reference_create(workspace=cast.ws, membership=cast.bob_m, title="Rival coffee",
                            text=CASES[1]["source"])
    indexing.index_reference(item.pk)
    assert check(cast.ws, CASES[1]["source"])["match"]["source"]["id"] == item.pk
    assert check(cast.other, CASES[1]["source"])["verdict"] == "original"
    assert set(Passage.objects.filter(reference=item).values_list("workspace_id", flat=True)) == {cast.ws.pk}


def test_a_document_is_not_compared_with_itself(cast, corpus):
    doc = corpus["bakery"]
    assert check(cast.ws, doc.body, document_id=doc.pk)["verdict"] == "original"
    assert check(cast.ws, doc.body)["verdict"] == "copy"


def test_trashed_documents_are_not_compared_against(cast, corpus):
    from copywriter.documents.services import document_trash, document_untrash

    doc = corpus["hotel"]
    document_trash(membership=cast.alice_m, document_id=doc.pk)
    # before the indexing task ran: left out at query time
    assert check(cast.ws, CASES[7]["light"])["verdict"] == "original"
    assert indexing.index_document(doc.pk) == "removed"
    assert not Passage.objects.filter(document=doc).exists()
    document_untrash(membership=cast.alice_m, document_id=doc.pk)
    indexing.index_document(doc.pk)
    assert check(cast.ws, CASES[7]["light"])["verdict"] == "copy"


def test_reindexing_follows_the_current_text_and_reuses_embeddings(cast, embeddings, monkeypatch):
    doc = document_create(membership=cast.alice_m, title="Draft", body=CASES[2]["source"])
    assert indexing.index_document(doc.pk).startswith("indexed")
    assert indexing.index_document(doc.pk) == "unchanged"
    new_body = CASES[2]["source"] + " Teams on the Pro plan get priority support from real people."
    document_save(membership=cast.alice_m, document_id=doc.pk, title="Draft", body=new_body,
                  base_number=1)
    # stale rows until the task runs: the evidence comes from the version they were made from
    rep = check(cast.ws, CASES[2]["light"])
    assert rep["match"]["source"]["version"] == 1 and rep["match"]["source"]["current"] is False
    embedded: list[str] = []

    def spy(texts):
        embedded.extend(texts)
        return embeddings(texts)

    monkeypatch.setattr("copywriter.originality.search.embed", spy)
    indexing.index_document(doc.pk)
    assert embedded and all("priority support" in t for t in embedded)  # only new passages
    assert set(Passage.objects.filter(document=doc).values_list("document_version", flat=True)) == {2}
    rep = check(cast.ws, CASES[2]["light"])
    assert rep["match"]["source"] == {"kind": "document", "id": doc.pk, "version": 2,
                                      "title": "Draft", "current": True}


def test_earlier_generations_are_compared_against(cast, embeddings, ad_template):
    from copywriter.generation.models import Generation, Variant

    gen = Generation.objects.create(workspace=cast.ws, created_by=cast.alice, template=ad_template,
                                    template_version=ad_template.current, fields={}, prompt="p",
                                    tone="neutral", variants=1, status="done")
    Variant.objects.create(generation=gen, index=0, text=CASES[3]["source"], finished=True)
    indexing.index_generation(gen.pk)
    rep = check(cast.ws, CASES[3]["light"])
    assert rep["verdict"] == "copy"
    assert rep["match"]["source"]["kind"] == "variant"
    assert rep["match"]["source"]["generation_id"] == gen.pk and rep["match"]["source"]["index"] == 0
    assert check(cast.ws, CASES[3]["light"], generation_id=gen.pk)["verdict"] == "original"
    assert check(cast.other, CASES[3]["light"])["verdict"] == "original"


def test_thresholds_are_per_workspace(cast, corpus):
    from copywriter.originality.models import OriginalitySettings
    from tests.support.originality_cases import topic

    t = topic("oa-06")  # a held-out heavy revision, flagged with its brief at the defaults
    ref = reference_create(workspace=cast.ws, title="Coding course", text=t["source"]["text"])
    indexing.index_reference(ref.pk)

    def run():
        return search.check_texts([search.CheckItem(cast.ws.pk, t["heavy"][0], given=t["brief"])])[0]

    assert run()["verdict"] == "paraphrase"
    OriginalitySettings.objects.create(workspace=cast.ws, paraphrase_threshold=0.95)
    rep = run()
    assert rep["verdict"] in ("original", "note") and rep["thresholds"]["paraphrase"] == 0.95


def test_empty_and_tiny_texts(cast, corpus):
    assert check(cast.ws, "")["verdict"] == "original"
    assert check(cast.ws, "   \n ")["passages_checked"] == 0
    short = check(cast.ws, "Book now.")
    assert short["verdict"] == "original" and short["passages_checked"] == 1


def test_passages_belong_to_their_source(cast, corpus):
    doc = corpus["yoga studio"]
    rows = list(Passage.objects.filter(document=doc))
    assert rows and all(r.kind == SourceKind.DOCUMENT and r.workspace_id == cast.ws.pk for r in rows)
    assert all(doc.body[r.start:r.end] == r.text for r in rows)
    assert {r.document_version for r in rows} == {doc.head_number}
    assert Document.objects.filter(pk=doc.pk).exists() and ReferenceItem.objects.count() == 0


def test_passages_embedded_for_a_check_are_not_embedded_again_to_index_them(monkeypatch):
    """The worker checks a variant, then indexes it when it is stored: the same passages."""
    from copywriter.originality import search

    calls: list[list[str]] = []

    def counting(texts, batch_size=8):
        calls.append(list(texts))
        return np.stack([np.full(384, len(t), dtype=np.float32) for t in texts])

    monkeypatch.setattr("copywriter.ml.embeddings.embed", counting)
    monkeypatch.setattr(search, "_recent", search._Recent(3))
    first = search.embed(["alpha", "beta", "alpha"])
    again = search.embed(["beta", "gamma"])
    assert calls == [["alpha", "beta"], ["gamma"]]
    assert first[:, 0].tolist() == [5, 4, 5] and again[:, 0].tolist() == [4, 5]
    search.embed(["delta"])  # four passages seen, three kept: the least recent goes
    search.embed(["alpha"])
    assert calls[-1] == ["alpha"] and search.embed([]).shape == (0, 384)

    def other(texts, batch_size=8):  # another embedder (a test's): never the first one's vectors
        calls.append(["other"] + list(texts))
        return np.zeros((len(texts), 384), dtype=np.float32)

    monkeypatch.setattr("copywriter.ml.embeddings.embed", other)
    assert search.embed(["beta"])[0, 0] == 0 and calls[-1] == ["other", "beta"]
