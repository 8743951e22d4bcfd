"""The task corpus validator (copywriter.quality.tasks): what keeps an example out of training."""

from __future__ import annotations

from pathlib import Path

import pytest

from copywriter.catalog.schema import load_library
from copywriter.quality.tasks import ROOT, Example, check, split_of

BRIEF = {"product": "Dryline basement waterproofing, Columbus OH",
         "benefit": "Free inspection, lifetime transferable warranty, most jobs done in 1-2 days"}
OUTPUT = ("Dry Basements in Columbus\nFree Basement Inspection\nLifetime Transferable Warranty\n"
          "Most Dryline jobs take 1-2 days, and the warranty moves to the new owner if you sell.\n"
          "Book your free inspection today and find out where the water is getting in.")


@pytest.fixture(scope="module")
def templates():
    good, _ = load_library(Path(ROOT) / "templates_lib")
    return {t.id: t for t in good}


def _example(**kw) -> Example:
    return Example(**{"id": "google-search-ad--x", "template": "google-search-ad",
                      "fields": dict(BRIEF), "output": OUTPUT, **kw})


def test_a_sound_example_has_no_problems(templates):
    ex = _example()
    check([ex], templates, eval_briefs=[])
    assert ex.problems == []


def test_an_example_close_to_an_eval_brief_is_left_out(templates):
    near = {"id": "eval-1", "fields": {"product": "Dryline basement waterproofing Columbus",
                                       "benefit": "free inspection, lifetime warranty, 1-2 days"}}
    far = {"id": "eval-2", "fields": {"product": "Tidewell solar panels",
                                      "benefit": "25-year warranty, free roof survey"}}
    flagged, control = _example(), _example(id="google-search-ad--y")
    check([flagged], templates, eval_briefs=[near, far])
    check([control], templates, eval_briefs=[far])
    assert flagged.problems == ["too close to the quality eval's brief eval-1 (never trained on)"]
    assert control.problems == []


def test_the_default_eval_briefs_are_the_quality_set(templates):
    from copywriter.quality.briefs import load_briefs

    brief = load_briefs()[0]
    ex = _example(template=brief["template"], fields=dict(brief["fields"]))
    check([ex], templates)
    assert any(brief["id"] in p for p in ex.problems)


def test_invented_numbers_placeholders_and_copies_are_problems(templates):
    invented = _example(id="a", output=OUTPUT.replace("1-2 days", "9 days"))
    blank = _example(id="b", fields={**BRIEF, "product": "Dryline damp proofing, Dayton OH"},
                     output=OUTPUT.replace("Columbus", "[City]"))
    copy = _example(id="c", fields={**BRIEF, "product": "Dryline waterproofing, Toledo"})
    check([_example(), invented, blank, copy], templates, eval_briefs=[])
    assert any("numbers not in the brief: 9" in p for p in invented.problems)
    assert any("placeholder [City]" in p for p in blank.problems)
    assert any("near-duplicate of google-search-ad--x" in p for p in copy.problems)


def test_splits_are_stable_and_hold_out_whole_templates():
    assert split_of("x--1", "google-search-ad") == split_of("x--1", "google-search-ad")
    held = {split_of(f"t--{i}", "ads-google-display") for i in range(20)}
    assert held == {"heldout_template"}


def test_a_slot_example_also_teaches_the_item_rows(templates):
    from copywriter.quality.tasks import item_pairs

    pairs = item_pairs(_example(), templates["google-search-ad"])
    assert [answer for _, answer in pairs] == OUTPUT.split("\n")
    first, description = pairs[0][0], pairs[3][0]
    assert first.startswith("Google search ad: write one headline.")
    assert "Product or service: Dryline basement waterproofing, Columbus OH" in first
    assert "At most 30 characters." in first and "At most 90 characters" in description
    # A template without slots writes whole variants only: no item rows.
    blog = next(t for t in templates.values() if not t.slots)
    assert item_pairs(_example(template=blog.id), blog) == []
