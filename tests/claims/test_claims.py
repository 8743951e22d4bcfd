"""The claims check (copywriter/claims): every claim in a generated text found and marked
supported or not by the brief and the workspace's facts; the review stage under both policies;
the report stored on the variant by the worker, shown in the API and marked on the page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.urls import reverse

from copywriter.api.services import token_create
from copywriter.claims import review as claims_review
from copywriter.claims.check import check_claims, read_numbers
from copywriter.claims.review import ClaimsStage
from copywriter.generation.models import Generation
from copywriter.generation.review import Draft
from copywriter.originality.models import OriginalitySettings
from tests.support.engines import serve_one
from tests.support.report import report

ROOT = Path(__file__).resolve().parents[2]


def unsupported(text, support, banned=()):
    """(text, kind, reason) of each unsupported claim, in order."""
    result = check_claims(text, support=support, banned=banned)
    for c in result.claims:
        assert text[c.start:c.end] == c.text  # spans index the text, for the page
    return [(c.text, c.kind, c.reason) for c in result.claims if not c.supported]


def supported(text, support):
    return [(c.text, c.kind) for c in check_claims(text, support=support).claims if c.supported]


# --- numbers -----------------------------------------------------------------------------------

def test_a_number_with_the_briefs_unit_and_another_value_contradicts_it():
    brief = ["Aria wireless headphones", "40-hour battery, USB-C fast charging"]
    text = "Aria headphones play for four hours on a charge, or 40 hours with the case."
    assert unsupported(text, brief) == [("four hours", "duration", "contradicts: 40-hour")]
    assert ("40 hours", "duration") in supported(text, brief)


def test_prices_match_by_value_across_spellings_and_an_invented_one_is_flagged():
    brief = ["Full groom from 35 pounds, treatment from 2,400 pounds, open 6 days"]
    text = "Grooms from £35 and treatment from £2,400, six days a week. Nail trims just $20."
    assert unsupported(text, brief) == [("$20", "price", "not in the brief")]
    assert supported(text, brief) == [("£35", "price"), ("£2,400", "price"), ("six days", "duration")]


def test_spelled_out_numbers_compounds_and_a_dozen_are_read_as_values():
    text = "twenty-five minutes, a dozen eggs, one hundred and fifty users, three million views"
    values = {text[n.start:n.end]: n.values for n in read_numbers(text)}
    assert values == {"twenty-five minutes": {25.0}, "a dozen": {12.0},
                      "one hundred and fifty users": {150.0}, "three million": {3_000_000.0}}
    assert unsupported("Ready in twenty-five minutes.", ["Ready in 25 minutes"]) == []
    assert unsupported("Ready in twenty minutes.", ["Ready in 25 minutes"]) == [
        ("twenty minutes", "duration", "contradicts: 25 minutes")]


def test_percentages_and_units_written_after_the_number():
    brief = ["Cut heating bills by up to 40%, fits dogs up to 40 kg"]
    assert unsupported("Save up to 40 per cent; beds for dogs up to 50 kg.", brief) == [
        ("50 kg", "quantity", "contradicts: 40 kg")]
    assert unsupported("Now 60% off.", brief) == [("60%", "percentage", "contradicts: 40%")]


def test_list_numbering_item_labels_time_codes_and_identifiers_are_not_claims():
    text = ("1. Headline 2: Fresh bread\n0-3s: Hook\n3D smile scan for B2B teams, IPX6, USB-C, "
            "code BREW3\n2) Tip 3: done")
    assert unsupported(text, ["bread"]) == []


def test_round_the_clock_is_one_claim_supported_only_when_the_brief_says_it():
    assert unsupported("Open 24/7 for emergencies.", ["Emergency vet, open 24/7"]) == []
    assert unsupported("Open 24/7 for emergencies.", ["Emergency vet, open 7 days"]) == [
        ("24/7", "duration", "not in the brief")]


def test_days_dates_and_times_swapped_for_the_briefs_contradict_it():
    brief = ["Webinar on Thursday 9 November at 2pm"]
    text = "Join us on Sunday 12 November at 6pm."
    assert unsupported(text, brief) == [("Sunday", "day", "contradicts: Thursday"),
                                        ("12 November", "date", "contradicts: 9 November"),
                                        ("6pm", "time", "contradicts: 2pm")]
    assert unsupported("See you on Thursday, 9 November, at 2pm.", brief) == []


# --- guarantees, superlatives, awards ----------------------------------------------------------

def test_guarantees_and_warranties_need_the_brief():
    brief = ["Tidewell solar panels", "Free roof survey, 25-year panel warranty"]
    text = "A 25-year warranty, a money-back guarantee and a risk-free trial."
    assert unsupported(text, brief) == [("money-back guarantee", "guarantee", "not in the brief"),
                                        ("risk-free", "guarantee", "not in the brief")]


def test_superlatives_and_comparisons_are_supported_only_by_the_same_phrase():
    text = ("The best boots in Leeds: #1 rated, number one for comfort, the fastest drying, "
            "better than leather and clinically proven.")
    kinds = [(t, k) for t, k, _ in unsupported(text, ["Fernway boots, Leeds shop"])]
    assert kinds == [("The best", "superlative"), ("#1 rated", "superlative"),
                     ("number one", "superlative"), ("fastest", "superlative"),
                     ("better than", "superlative"), ("clinically proven", "superlative")]
    assert unsupported("Voted the best bakery in Leeds.", ["Voted best bakery in Leeds 2024"]) == []


def test_awards_and_certifications():
    text = "Award-winning, certified organic, ISO 9001, B Corp and FDA approved."
    assert [k for _, k, _ in unsupported(text, ["Linen duvet"])] == ["award"] * 5
    assert unsupported("OEKO-TEX certified linen.", ["100% linen, OEKO-TEX certified"]) == []


# --- names --------------------------------------------------------------------------------------

def test_invented_names_are_flagged_and_the_briefs_own_names_are_not():
    brief = ["Ridgeline kids' climbing club", "Parents in Sheffield", "Saturday sessions"]
    text = ("Ridgeline Kids' Climbing Club in Sheffield is run by Jamie Okoro, with kit from "
            "Petzl. Sessions run on Saturday.")
    assert unsupported(text, brief) == [("Jamie Okoro", "name", "not in the brief"),
                                        ("Petzl", "name", "not in the brief")]


def test_a_place_swapped_for_the_briefs_contradicts_it():
    assert unsupported("A loft apartment in London.", ["Loft apartment in Brooklyn"]) == [
        ("London", "name", "contradicts: Brooklyn")]


def test_capitalised_sentence_starts_headlines_and_contractions_are_not_names():
    brief = ["Tidewell solar panel installation"]
    text = ("Hosting Solar Energy Installation In Your Home, Faster\nYou'll save. Don't wait! "
            "Situated nearby, Tidewell installs panels. Salary: competitive. Elaborate designs.")
    assert unsupported(text, brief) == []


# --- contradictions of stated features, banned claims ------------------------------------------

def test_a_negated_feature_that_the_brief_states_contradicts_it():
    brief = ["Two-bed flat with bay windows", "Parking included, no pets"]
    text = "A bright flat with no windows; parking not included. No pets, sorry."
    assert unsupported(text, brief) == [
        ("no windows", "contradiction", "contradicts: bay windows"),
        ("not included", "contradiction", "contradicts: parking included")]


def test_a_banned_claim_is_flagged_wherever_it_occurs_whatever_the_support():
    text = "Eco-friendly boots, truly eco friendly, and free returns."
    assert unsupported(text, ["eco-friendly boots, free returns"], banned=["eco-friendly"]) == [
        ("Eco-friendly", "banned", "banned claim"), ("eco friendly", "banned", "banned claim")]


def test_bad_input_says_what_is_wrong():
    with pytest.raises(TypeError, match="support must be a list of strings, not one string"):
        check_claims("text", support="a brief")
    with pytest.raises(TypeError, match="support must hold strings only; it holds int"):
        check_claims("text", support=["a", 4])
    with pytest.raises(TypeError, match="text must be a str, not NoneType"):
        check_claims(None, support=[])


# --- false positives on the eval's briefs -------------------------------------------------------

def test_each_eval_brief_supports_every_claim_in_its_own_field_values():
    """A brief's own words, checked against themselves, are never unsupported: the check's
    reading of support and of text agree (data/quality/briefs.jsonl: 48 briefs)."""
    briefs = [json.loads(line) for line in (ROOT / "data/quality/briefs.jsonl").read_text().splitlines()]
    checked, wrong = 0, []
    for brief in briefs:
        values = [str(v) for v in brief["fields"].values()]
        result = check_claims("\n".join(values), support=values)
        checked += len(result.claims)
        wrong += [(brief["id"], c.text, c.reason) for c in result.claims if not c.supported]
    assert checked > 100 and not wrong, wrong
    report(f"claims: {len(briefs)} eval briefs against themselves, {checked} claims, 0 unsupported")


# --- the review stage ----------------------------------------------------------------------------

BRIEF = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns"}
INVENTED = "Fernway hiking boots: waterproof leather, free returns and a lifetime warranty."
CLEAN = "Fernway hiking boots in waterproof leather, with free returns."


@pytest.fixture
def gen(queued_job, cast):
    return queued_job(cast.alice_m)


def _draft(gen, text, attempt=0):
    return Draft(key=(gen.pk, 0), generation=gen, text=text, tokens=10, finish_reason="stop",
                 attempt=attempt)


def _policy(cast, policy):
    cast.ws.claims_policy = policy
    cast.ws.save(update_fields=["claims_policy"])


def test_under_flag_an_unsupported_claim_is_reported_and_never_rewritten(cast, gen):
    _policy(cast, "flag")
    stage = ClaimsStage()
    bad, good = stage.review([_draft(gen, INVENTED), _draft(gen, CLEAN)])
    assert stage.max_rewrites(gen) == 0
    assert bad.rewrite is False and bad.rank == (1.0,) and good.rank == (0.0,)
    assert bad.report["unsupported"] == 1 and bad.report["checked"] >= 1
    assert bad.report["claims"] == [{"span": [INVENTED.index("lifetime"), len(INVENTED) - 1],
                                     "text": "lifetime warranty", "kind": "guarantee",
                                     "reason": "not in the brief"}]
    final = stage.final_report(bad, [bad])
    assert final["attempts"] == [1] and "shown_flagged" not in final


def test_under_hide_it_is_rewritten_at_most_twice_and_shown_flagged_when_every_attempt_had_one(cast, gen):
    _policy(cast, "hide")
    stage = ClaimsStage()
    first, clean = stage.review([_draft(gen, INVENTED), _draft(gen, CLEAN, attempt=1)])
    assert stage.max_rewrites(gen) == 2
    assert first.rewrite is True and clean.rewrite is False
    assert "shown_flagged" not in stage.final_report(clean, [first, clean])
    assert stage.final_report(first, [first, first, first]) | {} == {
        **first.report, "attempts": [1, 1, 1], "shown_flagged": True}


def test_the_workspace_facts_support_claims_and_its_banned_claims_are_flagged(cast, gen):
    gen.facts = {"facts": ["Resoled in Northampton"], "approved": ["Lifetime warranty"],
                 "banned": ["waterproof"]}
    (verdict,) = ClaimsStage().review([_draft(gen, INVENTED + " Resoled in Northampton.")])
    assert [(c["text"], c["reason"]) for c in verdict.report["claims"]] == [
        ("waterproof", "banned claim")]


def test_a_failing_check_gives_a_report_that_says_it_did_not_check(cast, gen, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("boom")

    monkeypatch.setattr(claims_review, "check_claims", broken)
    (verdict,) = ClaimsStage().review([_draft(gen, INVENTED)])
    assert verdict.rewrite is False and verdict.report["unsupported"] is None
    assert verdict.report["error"] == "The claims check failed (ValueError); the text was not checked."


# --- through the worker, the API and the page ---------------------------------------------------

@pytest.fixture
def worker_ready(cast, settings):
    settings.GENERATION_SLOTS = False  # the variant is one sequence, as the scripted texts are
    OriginalitySettings.objects.create(workspace=cast.ws, check_generations=False)


def test_the_worker_stores_the_report_on_the_variant_under_flag(worker_ready, cast, gen):
    _policy(cast, "flag")
    variant, engine = serve_one(gen, [INVENTED, CLEAN])
    assert engine.calls == 1 and variant.text == INVENTED
    assert variant.claims["unsupported"] == 1 and variant.claims["attempts"] == [1]
    assert variant.claims["claims"][0]["text"] == "lifetime warranty"


def test_the_worker_rewrites_under_hide_and_keeps_the_clean_attempt(worker_ready, cast, gen):
    _policy(cast, "hide")
    variant, engine = serve_one(gen, [INVENTED, CLEAN])
    assert engine.calls == 2 and variant.text == CLEAN
    assert variant.claims["unsupported"] == 0 and variant.claims["attempts"] == [1, 0]
    assert Generation.objects.get(pk=gen.pk).timings["rewrites"] == 1


def test_the_api_gives_the_count_and_the_unsupported_claims(worker_ready, cast, gen, client):
    _policy(cast, "flag")
    serve_one(gen, [INVENTED])
    secret = token_create(membership=cast.alice_m, name="t", role=cast.alice_m.role).secret
    body = client.get(f"/api/v1/generations/{gen.pk}",
                      HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    claims = body["variants"][0]["claims"]
    assert claims["unsupported"] == 1 and claims["policy"] == "flag"
    assert claims["claims"] == [{"span": [INVENTED.index("lifetime"), len(INVENTED) - 1],
                                 "text": "lifetime warranty", "kind": "guarantee",
                                 "reason": "not in the brief"}]


def test_the_page_marks_each_unsupported_claim_with_its_reason(worker_ready, cast, gen, alice_client):
    _policy(cast, "flag")
    serve_one(gen, ['Fernway boots <b>"bold"</b> with a lifetime warranty.'])
    html = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    assert ('<mark class="claim" title="not in the brief" data-kind="guarantee">lifetime warranty'
            '</mark>') in html
    assert "1 claim not in your brief" in html
    assert "&lt;b&gt;&quot;bold&quot;&lt;/b&gt;" in html and "<b>" not in html  # escaped


TWO = "Fernway hiking boots in waterproof leather, with free returns. Every pair has a lifetime warranty."


def test_a_new_workspace_takes_sentences_with_unsupported_claims_out(worker_ready, cast, gen, client,
                                                                      alice_client):
    assert cast.ws.claims_policy == "cut"
    variant, engine = serve_one(gen, [TWO, CLEAN])
    assert engine.calls == 1 and variant.text == CLEAN
    assert variant.claims["unsupported"] == 0 and variant.claims["policy"] == "cut"
    assert variant.choice["taken_out"] == [{
        "sentence": "Every pair has a lifetime warranty.",
        "claims": [{"text": "lifetime warranty", "kind": "guarantee", "reason": "not in the brief"}]}]
    secret = token_create(membership=cast.alice_m, name="t", role=cast.alice_m.role).secret
    body = client.get(f"/api/v1/generations/{gen.pk}", HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    assert body["variants"][0]["choice"]["taken_out"][0]["sentence"] == "Every pair has a lifetime warranty."
    html = alice_client.get(reverse("generation:detail", args=[cast.ws.pk, gen.pk])).content.decode()
    assert "1 sentence taken out" in html
    assert "<q>Every pair has a lifetime warranty.</q>: &ldquo;lifetime warranty&rdquo; not in the brief" in html


def test_under_cut_a_text_the_cut_would_gut_is_written_once_more(worker_ready, gen):
    variant, engine = serve_one(gen, [INVENTED, CLEAN])
    assert engine.calls == 2 and variant.text == CLEAN
    assert variant.claims["attempts"] == [1, 0] and "shown_flagged" not in variant.claims


def test_under_cut_it_is_shown_flagged_when_the_second_attempt_fails_too(worker_ready, gen, alice_client):
    variant, engine = serve_one(gen, [INVENTED, INVENTED])
    assert engine.calls == 2 and variant.text == INVENTED
    assert variant.claims["shown_flagged"] is True and variant.claims["attempts"] == [1, 1]
    assert "less than half" in variant.choice["refused"]


def test_an_owner_chooses_the_claims_policy_in_the_workspace_settings(cast, alice_client, bob_client):
    url = reverse("workspaces:settings", args=[cast.ws.pk])
    assert 'name="claims_policy"' in alice_client.get(url).content.decode()
    response = alice_client.post(url, {"name": "Acme marketing", "claims_policy": "hide"})
    assert response.status_code == 302
    cast.ws.refresh_from_db()
    assert cast.ws.claims_policy == "hide"
    assert alice_client.post(url, {"name": "Acme", "claims_policy": "drop"}).status_code == 400
    assert bob_client.post(url, {"name": "Acme", "claims_policy": "flag"}).status_code in (403, 404)
    cast.ws.refresh_from_db()
    assert cast.ws.claims_policy == "hide"


def test_an_owner_chooses_the_candidates_per_variant_and_a_new_workspace_has_three(cast, alice_client,
                                                                                bob_client):
    from copywriter.accounts.services import user_create
    from copywriter.audit.models import AuditEvent
    from copywriter.workspaces.models import Workspace

    dora = user_create(email="dora@example.com", password="a long enough password", name="Dora")
    fresh = Workspace.objects.get(memberships__user=dora)
    assert (fresh.candidates, fresh.claims_policy) == (3, "cut")
    cast.ws.candidates = 3
    cast.ws.save(update_fields=["candidates"])
    url = reverse("workspaces:settings", args=[cast.ws.pk])
    assert 'name="candidates"' in alice_client.get(url).content.decode()
    assert alice_client.post(url, {"name": "Acme marketing", "candidates": "1"}).status_code == 302
    cast.ws.refresh_from_db()
    assert cast.ws.candidates == 1 and cast.ws.claims_policy == "cut"  # left out: unchanged
    event = AuditEvent.objects.filter(action="workspace.settings_changed").latest("pk")
    assert event.details == {"setting": "candidates", "old": 3, "new": 1}
    assert "set candidates per variant to 1 (was 3)" in event.summary
    for bad in ("0", "9", "two"):
        assert alice_client.post(url, {"name": "Acme", "candidates": bad}).status_code == 400
    assert bob_client.post(url, {"name": "Acme", "candidates": "5"}).status_code in (403, 404)
    cast.ws.refresh_from_db()
    assert cast.ws.candidates == 1
