"""Passages, spans, n-gram overlap and the verdict rule (plain Python, no model, no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from copywriter.originality import text as T
from copywriter.originality.report import Candidate, Source, _segments, build_report


def test_sentences_keep_exact_spans_and_know_abbreviations():
    text = ("Big news!\nThe Fernway boot, e.g. the Ridge, costs $120. Dr. Lee loves it. \"Wow.\" "
            "She said so!\n- Waterproof leather upper\n1. Step one is here.  U.S. shipping. Done")
    spans = T.sentences(text)
    assert [s.text for s in spans] == [
        "Big news!", "The Fernway boot, e.g. the Ridge, costs $120.", "Dr. Lee loves it.",
        "\"Wow.\"", "She said so!", "Waterproof leather upper", "Step one is here.",
        "U.S. shipping.", "Done"]
    assert all(text[s.start:s.end] == s.text for s in spans)


def test_passages_are_sentences_and_windows_of_two_and_three():
    text = ("One two three four five six seven. Eight nine ten eleven twelve thirteen. "
            "Short one. Fourteen fifteen sixteen seventeen eighteen nineteen twenty.")
    ps = T.passages(text)
    singles = [p.text for p in ps if p.size == 1]
    assert "Short one." not in singles and len(singles) == 3
    assert {p.size for p in ps} == {1, 2, 3}
    assert all(text[p.start:p.end] == p.text for p in ps)
    assert len([p for p in ps if p.size == 3]) == 2


def test_a_run_on_paragraph_is_cut_into_overlapping_chunks():
    words = " ".join(f"w{i}" for i in range(200))
    ps = T.passages(words)
    assert all(len(T.words(p.text)) <= T.MAX_WINDOW_WORDS for p in ps)
    assert ps[0].start == 0 and ps[-1].end == len(words)


def test_short_texts_are_checked_whole_and_empty_ones_not_at_all():
    assert [p.text for p in T.passages("  Book now.  ")] == ["Book now."]
    assert T.passages("") == [] and T.passages(" \n--\n ") == []


def test_overlap_counts_five_word_runs():
    src = "Every pair comes with free returns for 100 days, so you can test them."
    assert T.overlap(src, src).ratio == 1.0
    o = T.overlap("Every pair comes with free returns for 100 days. Lovely.", src)
    assert o.shared == 5 and o.total == 6
    assert T.overlap("Completely different words in this sentence here.", src).shared == 0
    # a short text uses one n-gram of its own length
    assert T.overlap("free returns", src).ratio == 1.0


def test_one_stock_phrase_is_not_a_copy():
    t = T.Thresholds()
    phrase = T.Overlap(shared=1, total=2)  # 6-word sentence sharing one 5-word run
    assert not phrase.is_copy(t.copy_overlap)
    assert T.Overlap(shared=2, total=2).is_copy(t.copy_overlap)  # the whole short sentence
    assert T.Overlap(shared=4, total=10).is_copy(t.copy_overlap)
    assert not T.Overlap(shared=3, total=5).is_copy(t.copy_overlap)


SRC = ("Alpha beta gamma delta epsilon zeta. Eta theta iota kappa lambda mu. "
       "Nu xi omicron pi rho sigma. Tau upsilon phi chi psi omega.")
MINE = ("One two three four five six. Seven eight nine ten eleven twelve. "
        "Thirteen fourteen fifteen sixteen seventeen eighteen. Nineteen twenty thirty forty fifty sixty.")


def _seeds(pairs: list[tuple[int, int]], similarity: float) -> list[Candidate]:
    """Candidates pairing sentence i of MINE with sentence j of SRC."""
    source = Source("s", {"kind": "reference", "id": 1, "title": "Greek"}, SRC)
    query = T.passages(MINE)
    mine, src = T.units(MINE), T.units(SRC)
    index = {(p.start, p.end): n for n, p in enumerate(query)}
    return [Candidate(index[(mine[i].start, mine[i].end)], source, src[j].start, src[j].end,
                      similarity) for i, j in pairs]


def test_verdict_rule_one_sentence_is_a_note_several_in_order_a_paraphrase():
    """The issue's rule (the old one flagged any one sentence at 0.82): one similar sentence is
    a note; three that follow the source in order are a paraphrase; the same three out of
    order are not (the control)."""
    t = T.Thresholds()
    query = T.passages(MINE)
    one = build_report(MINE, query, _seeds([(1, 1)], 0.9), t)
    assert one["verdict"] == "note" and one["matches"] and "One sentence" in one["explanation"]
    in_order = build_report(MINE, query, _seeds([(0, 0), (1, 1), (2, 2)], 0.9), t)
    assert in_order["verdict"] == "paraphrase" and in_order["aligned"] == 3
    assert in_order["explanation"] == "3 of 4 sentences follow 'Greek' in order, in other words."
    shuffled = build_report(MINE, query, _seeds([(0, 2), (1, 1), (2, 0)], 0.9), t)
    assert shuffled["verdict"] == "note" and shuffled["aligned"] == 1
    below = build_report(MINE, query, _seeds([(0, 0), (1, 1), (2, 2)], t.paraphrase - 0.05), t)
    assert below["verdict"] == "original"


def test_thresholds_are_validated():
    assert T.Thresholds().validate() == []
    assert len(T.Thresholds(paraphrase=1.2, copy_overlap=0).validate()) == 2


def test_segments_mark_the_copied_words_and_keep_every_character():
    span = "Try the seeded rye with salted butter, today only!"
    other = "Come in and try the seeded rye with salted butter or a bun."
    segs = _segments(span, other)
    assert "".join(s for s, _ in segs) == span
    assert [s for s, shared in segs if shared] == ["Try the seeded rye with salted butter"]


@given(st.text(alphabet=st.sampled_from(list("abc XYZ.!?\n-'\u2019é")), max_size=300))
def test_spans_always_point_into_the_text(text):
    for p in T.passages(text):
        assert text[p.start:p.end] == p.text and p.text.strip() == p.text
    for s in T.sentences(text):
        assert text[s.start:s.end] == s.text


def test_report_lists_distinct_evidence_and_never_more_than_five():
    src_text = CASE = ("Alpha beta gamma delta epsilon zeta. Eta theta iota kappa lambda mu. "
                       "Nu xi omicron pi rho sigma.")
    source = Source("s", {"kind": "reference", "id": 1, "title": "Greek"}, src_text)
    query = T.passages(CASE)
    cands = [Candidate(i, source, p.start, p.end, 0.99) for i, p in enumerate(query)]
    rep = build_report(CASE, query, cands, T.Thresholds())
    assert rep["verdict"] == "copy" and 1 <= len(rep["matches"]) <= 5
    spans = [(m["text_span"]["start"], m["text_span"]["end"]) for m in rep["matches"]]
    assert len(spans) == len(set(spans))
