"""The house style review stage: a variant with a banned term is written again (at most the
workspace's max_rewrites times), out of rewrites it is stored and shown flagged; other findings
are stored and shown, never rewritten. Through the real worker loop with a scripted engine."""

from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.generation.models import Generation
from copywriter.generation.review import Draft
from copywriter.originality.models import OriginalitySettings
from copywriter.pipeline.tasks import stages
from copywriter.style import review as style_review
from copywriter.style.models import StyleRules
from copywriter.style.review import StyleStage
from tests.support.engines import serve_one

BANNED = "Fernway hiking boots: world-class waterproof leather, free returns."
CLEAN = "Fernway hiking boots in waterproof leather, with free returns."
COLOUR = "Fernway hiking boots in every colour, with free returns."


@pytest.fixture
def gen(queued_job, cast):
    return queued_job(cast.alice_m)


@pytest.fixture
def rules(cast):
    return StyleRules.objects.create(workspace=cast.ws, generic=False, spelling="en-US",
                                     banned=[{"term": "world-class", "reason": "unprovable"}])


def _draft(gen, text, attempt=0):
    return Draft(key=(gen.pk, 0), generation=gen, text=text, tokens=10, finish_reason="stop",
                 attempt=attempt)


def test_the_stage_runs_first_in_the_pipeline():
    assert [s.name for s in stages()] == ["style", "originality", "claims"]


def test_a_banned_term_asks_for_a_rewrite_and_other_findings_do_not(cast, gen, rules):
    stage = StyleStage()
    banned, colour, clean = stage.review([_draft(gen, BANNED), _draft(gen, COLOUR),
                                          _draft(gen, CLEAN)])
    assert stage.max_rewrites(gen) == 2
    assert banned.rewrite is True and banned.rank == (1.0,) and banned.report["banned"] == 1
    assert banned.report["findings"][0]["rule"] == "banned"
    assert BANNED[banned.report["findings"][0]["start"]:banned.report["findings"][0]["end"]] \
        == "world-class"
    assert colour.rewrite is False and colour.rank == (0.0,) and colour.report["count"] == 1
    assert colour.report["findings"][0]["replacement"] == "color"
    assert clean.rewrite is False and clean.report["count"] == 0


def test_no_banned_terms_no_rewrites(cast, gen):
    StyleRules.objects.create(workspace=cast.ws, spelling="en-US")
    assert StyleStage().max_rewrites(gen) == 0
    rules = StyleRules.objects.get(workspace=cast.ws)
    rules.banned, rules.max_rewrites = [{"term": "cheap", "reason": ""}], 0
    rules.save()
    assert StyleStage().max_rewrites(gen) == 0  # the workspace turned rewrites off: flag only


def test_final_report_flags_the_kept_attempt_when_every_attempt_had_a_banned_term(cast, gen, rules):
    stage = StyleStage()
    first, clean = stage.review([_draft(gen, BANNED), _draft(gen, CLEAN, attempt=1)])
    kept = stage.final_report(clean, [first, clean])
    assert kept["attempts"] == [1, 0] and kept["rewritten"] == 1 and "shown_flagged" not in kept
    flagged = stage.final_report(first, [first, first, first])
    assert flagged["shown_flagged"] is True and flagged["attempts"] == [1, 1, 1]


def test_a_failing_check_says_it_did_not_check_and_never_asks_for_a_rewrite(cast, gen, rules,
                                                                            monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(style_review.services, "check_text", broken)
    (verdict,) = StyleStage().review([_draft(gen, BANNED)])
    assert verdict.rewrite is False and verdict.report["checked"] is False
    assert verdict.report["error"] == ("The house style check failed (ValueError); the text was "
                                       "not checked.")


# --- through the worker ----------------------------------------------------------------------

@pytest.fixture
def worker_ready(cast, settings):
    settings.GENERATION_SLOTS = False  # the variant is one sequence, as the scripted texts are
    OriginalitySettings.objects.create(workspace=cast.ws, check_generations=False)


def test_the_worker_rewrites_a_banned_term_and_keeps_the_clean_attempt(worker_ready, gen, rules):
    variant, engine = serve_one(gen, [BANNED, CLEAN])
    assert engine.calls == 2 and variant.text == CLEAN
    assert variant.style["banned"] == 0 and variant.style["attempts"] == [1, 0]
    assert variant.style["rewritten"] == 1 and "shown_flagged" not in variant.style
    assert Generation.objects.get(pk=gen.pk).timings["rewrites"] == 1


def test_out_of_rewrites_the_variant_is_stored_and_shown_flagged(worker_ready, cast, gen, rules,
                                                                 alice_client):
    rules.max_rewrites = 1
    rules.save()
    variant, engine = serve_one(gen, [BANNED, BANNED, CLEAN])
    assert engine.calls == 2 and variant.text == BANNED
    assert variant.style["shown_flagged"] is True and variant.style["attempts"] == [1, 1]
    html = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    assert "Banned term: every attempt had one" in html
    panel = alice_client.get(reverse("style:variant_panel", args=[cast.ws.pk, gen.pk, 0]),
                             HTTP_HX_REQUEST="true").content.decode()
    assert "Written 2 times; every attempt had a banned term." in panel
    assert 'title="\u201cworld-class\u201d is banned: unprovable">world-class</mark>' in panel


def test_other_findings_are_stored_and_never_rewritten(worker_ready, gen, rules):
    variant, engine = serve_one(gen, [COLOUR, CLEAN])
    assert engine.calls == 1 and variant.text == COLOUR
    assert variant.style["count"] == 1 and variant.style["findings"][0]["rule"] == "spelling"
    assert variant.style["attempts"] == [0] and "shown_flagged" not in variant.style


def test_the_api_gives_the_style_report_of_a_variant(worker_ready, cast, gen, rules, client):
    from copywriter.api.services import token_create

    serve_one(gen, [COLOUR])
    secret = token_create(membership=cast.bob_m, name="t", role="viewer").secret
    body = client.get(f"/api/v1/generations/{gen.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    style = body["variants"][0]["style"]
    assert style["checked"] is True and style["count"] == 1 and style["banned"] == 0
    assert style["findings"][0] == {"rule": "spelling", "message": "American spelling (en-US): "
                                    "\u201ccolor\u201d.", "start": COLOUR.index("colour"),
                                    "end": COLOUR.index("colour") + 6, "replacement": "color"}
