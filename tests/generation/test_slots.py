"""Output slots: the schema, reading and fitting items, and the worker writing a slot template
item by item (no item over its limit is ever stored), and best of N for long-form copy."""

from __future__ import annotations

import random

import pytest
import yaml
from django.conf import settings

from copywriter.catalog.schema import TemplateInvalid, parse_template
from copywriter.catalog.slots import char_limits, check_slots
from copywriter.generation.models import Generation
from copywriter.ml.engine import SeqResult
from copywriter.pipeline import worker as pipeline_worker
from copywriter.pipeline.slots import fit, read_item
from copywriter.pipeline.worker import Pipeline
from tests.support.engines import GenerateOnlyEngine

AD_SLOTS = [{"name": "headline", "count": 3, "max_chars": 30, "exclamation": False,
             "instruction": "A headline with one benefit.", "source": "Google Ads Help, RSA limits"},
            {"name": "description", "count": 2, "max_chars": 90,
             "instruction": "A sentence on the offer.", "source": "Google Ads Help, RSA limits"}]


HEADS = ["Fernway Hiking Boots", "Waterproof Leather", "Free Returns Always"]
DESCRIPTIONS = ["Free returns on Fernway boots.", "Leather that keeps the rain out."]


def _ad(slots):
    data = yaml.safe_load((settings.TEMPLATES_LIB_DIR / "ads" / "google-search-ad.yaml").read_text())
    data["output"]["slots"] = slots
    return data


# --- the schema ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "error"), [
    ({"colour": "red"}, "unknown keys"),
    ({"min": 1, "max": 3}, "count or min/max, not both"),
    ({"source": None}, "source must say where its character limit comes from"),
    ({"count": {"field": "nope"}}, "undeclared field"),
    ({"count": 40}, "count must be within 1..15"),
    ({"case": "shouty"}, "case must be one of"),
    ({"instruction": "short"}, "instruction must say what one item is"),
])
def test_the_validator_refuses_a_broken_slot_and_says_why(change, error):
    slots = [dict(AD_SLOTS[0]), dict(AD_SLOTS[1])]
    slots[0].update(change)
    slots[0] = {k: v for k, v in slots[0].items() if v is not None}
    with pytest.raises(TemplateInvalid) as exc:
        parse_template(_ad(slots), source="t")
    assert any(error in e for e in exc.value.errors), exc.value.errors


def test_a_sample_output_that_breaks_its_own_slots_is_refused():
    data = _ad(AD_SLOTS)
    data["sample_output"] = ("Waterproof Boots That Last For Years And Years\nFree Returns\n"
                             "Fernway Boots\nOne.\nTwo.")
    with pytest.raises(TemplateInvalid) as exc:
        parse_template(data, source="t")
    assert "sample_output breaks its slots: headline 1 has 46 characters (at most 30)" in exc.value.errors


def test_every_builtin_slot_template_satisfies_its_slots_with_its_own_sample(builtin_templates):
    from copywriter.catalog.models import Template

    with_slots = [t for t in Template.objects.filter(workspace=None)
                  if (t.current.data.get("output") or {}).get("slots")]
    assert len(with_slots) >= 60
    for t in with_slots:
        data = t.current.data
        read = check_slots(data["sample_output"], data["output"]["slots"],
                           {k: str(v) for k, v in data["samples"][0].items()})
        assert read.ok, (t.slug, read.failures)


# --- reading and fitting items -------------------------------------------------------------------

def test_a_written_line_is_read_back_to_the_item():
    slot = AD_SLOTS[0]
    assert read_item('1. Headline 2: "Waterproof Fernway Boots"\nmore', slot) == "Waterproof Fernway Boots"
    assert read_item("**Free returns on every pair**", slot) == "Free returns on every pair"


def test_an_item_over_its_limit_is_cut_only_where_the_phrase_is_complete():
    slot = AD_SLOTS[0]
    # 39 characters; a comma at 19 leaves "Waterproof leather" (complete, 3+ words? no: 2) -> None
    assert fit("Waterproof leather, free returns always", slot, {}) is None
    assert fit("Fernway waterproof boots, free returns forever", slot, {}) == "Fernway waterproof boots"
    # no phrase boundary inside the limit: never cut mid-phrase
    assert fit("Waterproof leather boots for every single trail", slot, {}) is None
    # a cut that would end on "with" is not complete
    assert fit("Boots made to last with, free returns forever", slot, {}) is None
    assert fit("Free Returns!", slot, {}) is None  # no exclamation mark in a headline
    assert fit("Free returns on every pair", slot, {}) == "Free returns on every pair"


def test_limits_can_come_from_the_brief():
    slot = {"name": "subject", "count": 1, "max_chars": {"field": "max_chars"}}
    assert char_limits(slot, {"max_chars": "40"}) == (None, 40)


# --- the worker writes slot items ---------------------------------------------------------------

class ItemEngine(GenerateOnlyEngine):
    """Writes whatever ``write(request)`` says; counts the rows it was asked for."""

    adapter_paths: dict = {}

    def __init__(self, write):
        self.write = write
        self.requests: list = []

    def generate(self, requests):
        self.requests += requests
        return [SeqResult(key=r.key, text=self.write(r), tokens=5, finish_reason="stop",
                          logprob=-5.0) for r in requests]


class Accept:
    name = "originality"

    def max_rewrites(self, generation):
        return 0

    def review(self, drafts):
        return [pipeline_worker.Verdict(report={"verdict": "original"}, rank=(0,)) for _ in drafts]

    def final_report(self, kept, attempts):
        return kept.report

    def finished(self, generation_ids):
        pass


def _run(engine, gen, *, slots=True, rounds=3):
    return Pipeline(me="host:1", queue=gen.queue, engine=engine, stages=[Accept()], capacity=8,
                    bulk_share=0.75, max_seconds=60, slots=slots,
                    item_rounds=rounds).run(first_id=gen.pk)


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
    monkeypatch.setattr(pipeline_worker, "CLAIM_EVERY", 0.0)
    monkeypatch.setattr(pipeline_worker, "PARTIAL_EVERY", 0.0)


def _is_headline(request):
    return "write one headline" in request.prompt


def test_a_slot_variant_is_written_item_by_item_and_stored_structured(cast, queued_job):
    gen = queued_job(cast.alice_m, variants=2)
    heads = ["Fernway Hiking Boots", "Waterproof Leather", "Free Returns Always"]
    descriptions = ["Waterproof leather Fernway boots that keep every trail dry.",
                    "Order today: free returns if the fit is not right."]

    def write(r):
        n = r.key[3]
        return heads[n] if _is_headline(r) else descriptions[n - 3]

    engine = ItemEngine(write)
    assert _run(engine, gen) == 1
    # 2 variants x (3 headlines + 2 descriptions), one line each, within the item budget
    assert len(engine.requests) == 10
    assert all(r.one_line and r.max_new_tokens <= 40 for r in engine.requests)
    assert all("Fernway hiking boots" in r.prompt for r in engine.requests)  # the brief, in each
    assert all(r.priority == 1 for r in engine.requests)  # interactive: prefilled before bulk rows
    for v in Generation.objects.get(pk=gen.pk).results.all():
        assert set(v.slots) == {"headline", "description"}
        assert len(v.slots["headline"]) == 3 and len(v.slots["description"]) == 2
        assert v.text.splitlines() == v.slots["headline"] + v.slots["description"]
        assert v.choice["missing"] == []


def test_an_item_over_its_limit_is_written_again_and_never_shown(cast, queued_job):
    gen = queued_job(cast.alice_m)
    seen: dict[int, int] = {}

    def write(r):
        n = r.key[3]
        seen[n] = seen.get(n, 0) + 1
        if _is_headline(r) and seen[n] == 1:  # the first try of every headline is too long
            return "Fernway waterproof leather hiking boots for every trail"
        return HEADS[n] if _is_headline(r) else DESCRIPTIONS[n - 3]

    engine = ItemEngine(write)
    _run(engine, gen)
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.slots["headline"] == HEADS
    assert all(v == 2 for n, v in seen.items() if n < 3)  # one extra round per headline


def test_an_item_that_never_fits_is_left_out_and_reported(cast, queued_job):
    gen = queued_job(cast.alice_m)

    def write(r):
        if _is_headline(r) and r.key[3] == 1:
            return "Fernway waterproof leather hiking boots for every single trail"
        return HEADS[r.key[3]] if _is_headline(r) else DESCRIPTIONS[r.key[3] - 3]

    engine = ItemEngine(write)
    _run(engine, gen, rounds=2)
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.slots["headline"] == [HEADS[0], HEADS[2]]
    assert v.choice["missing"] == ["headline 2"]
    assert sum(1 for r in engine.requests if r.key[3] == 1) == 3  # the first try and 2 rounds


def test_near_copies_inside_one_variant_are_written_again(cast, queued_job):
    gen = queued_job(cast.alice_m)
    calls: dict[int, int] = {}

    def write(r):
        n = r.key[3]
        calls[n] = calls.get(n, 0) + 1
        if _is_headline(r):
            return "Waterproof Fernway boots" if calls[n] == 1 else ["", "Free Returns", "Leather Boots That Last"][n]
        return ["Free returns on Fernway boots.", "Leather that keeps rain out."][n - 3]

    _run(ItemEngine(write), gen)
    heads = Generation.objects.get(pk=gen.pk).results.get().slots["headline"]
    assert len(set(heads)) == 3 and heads.count("Waterproof Fernway boots") == 1


@pytest.mark.parametrize("seed", range(5))
def test_no_stored_item_is_ever_over_its_limit(cast, queued_job, seed):
    """Whatever the writer writes (lines of 5-60 characters, some with "!", some with labels),
    every stored item is within its slot's limit and rules."""
    gen = queued_job(cast.alice_m, variants=3)
    rng = random.Random(seed)
    vocab = ["Fernway", "boots", "waterproof", "leather", "free", "returns", "trail", "dry",
             "walk", "every", "day", "with", "comfort", "grip", "fit"]

    def write(r):
        text = " ".join(rng.choice(vocab) for _ in range(rng.randint(1, 12)))
        if rng.random() < 0.2:
            text += "!"
        if rng.random() < 0.2:
            text = "Headline 1: " + text
        return text

    _run(ItemEngine(write), gen)
    variants = list(Generation.objects.get(pk=gen.pk).results.all())
    # Stored items to check, else the limits below hold for nothing.
    assert len(variants) == 3 and any(v.slots.get("headline") for v in variants)
    for v in variants:
        for item in v.slots.get("headline", []):
            assert len(item) <= 30 and "!" not in item
        for item in v.slots.get("description", []):
            assert len(item) <= 90
        assert check_slots(v.text, AD_SLOTS, {}).failures == [] or v.choice["missing"]


# --- best of N for long-form copy ----------------------------------------------------------------

def test_best_of_n_shows_the_candidate_that_passes_the_hard_filters(cast, queued_job):
    from copywriter.workspaces.models import Workspace

    Workspace.objects.filter(pk=cast.alice_m.workspace_id).update(candidates=3)
    gen = queued_job(cast.alice_m)
    texts = {0: "Hi [Your Name], our boots are waterproof leather with free returns.",
             1: "Waterproof leather boots with free returns for every walk.",
             2: "Fernway hiking boots: waterproof leather, and free returns on every pair."}
    engine = ItemEngine(lambda r: texts[r.key[4]])
    _run(engine, gen, slots=False)
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert len(engine.requests) == 3 and {r.key[4] for r in engine.requests} == {0, 1, 2}
    # the last candidate starts with the product's name ("Fernway", of "Fernway hiking
    # boots"), the others write freely
    assert [r.answer for r in sorted(engine.requests, key=lambda r: r.key[4])] == ["", "", "Fernway"]
    assert v.text == texts[2]
    assert v.choice["candidates"] == 3 and v.choice["chosen"] == 2 and v.choice["failed"] == []
    others = sorted(o["failed"][0] for o in v.choice["others"])
    assert others == ["leaves a placeholder", "leaves out the product's name"]


# --- the page and the export ------------------------------------------------------------------

def test_the_page_shows_each_slot_item_with_its_count_and_the_ads_export(cast, queued_job, client):
    gen = queued_job(cast.alice_m, variants=2)
    heads = ["=Fernway Hiking Boots", "Waterproof Leather", "Free Returns Always"]
    descriptions = ["Waterproof leather Fernway boots that keep every trail dry.",
                    "Order today: free returns if the fit is not right."]
    _run(ItemEngine(lambda r: heads[r.key[3]] if _is_headline(r) else descriptions[r.key[3] - 3]), gen)
    client.force_login(cast.alice)
    ws = cast.alice_m.workspace_id
    page = client.get(f"/w/{ws}/generations/{gen.pk}/").content.decode()
    assert "Waterproof Leather" in page and "18/30" in page and "59/90" in page
    assert "Export for Google Ads Editor" in page
    response = client.get(f"/w/{ws}/generations/{gen.pk}/search-ads.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = [line.split(",") for line in response.content.decode().splitlines()]
    assert rows[0][:4] == ["Campaign", "Ad group", "Ad type", "Headline 1"]
    assert len(rows[0]) == 3 + 15 + 4 + 3 and len(rows) == 3
    # a headline that a spreadsheet would run as a formula is defused
    assert rows[1][3] == "'=Fernway Hiking Boots" and rows[1][4] == "Waterproof Leather"
    assert rows[1][18] == descriptions[0]


def test_only_a_search_ad_exports_to_google_ads_editor(cast, client, sent):
    from copywriter.generation.services import generation_create
    from tests.support.templates import builtin_template

    tpl = builtin_template("email/email-subject-lines.yaml")
    fields = {k: str(v) for k, v in tpl.current.data["samples"][0].items()}
    gen = generation_create(membership=cast.alice_m, template=tpl, tone="neutral", fields=fields,
                            variants=1, per_minute_limit=False)
    client.force_login(cast.alice)
    response = client.get(f"/w/{cast.alice_m.workspace_id}/generations/{gen.pk}/search-ads.csv")
    assert response.status_code == 400


def test_label_lines_instructions_brackets_and_cut_rows_are_not_items():
    from copywriter.pipeline.slots import complete_part, not_copy

    slot = AD_SLOTS[1]
    assert read_item("A well-crafted description:\nFree returns on every pair.", slot) == \
        "Free returns on every pair."
    assert not_copy("Write a page that showcases the jackets") == "an instruction, not copy"
    assert not_copy("Shop at [SALE] today") == "has a bracketed blank"
    assert not_copy("Free returns on every pair") == ""
    # a row that ran out of tokens keeps only what ends at a phrase boundary
    assert complete_part("Waterproof leather, made from a high-quality") == "Waterproof leather"
    assert complete_part("made from a high-quality") == ""


def test_the_writer_sees_the_templates_own_sample_item_and_may_not_copy_it(cast, queued_job):
    gen = queued_job(cast.alice_m)
    sample = gen.template_version.data["sample_output"].splitlines()

    def write(r):  # the first try of each headline copies the example it was shown
        example = r.prompt.split("(do not reuse its facts):\n", 1)[1].split("\n", 1)[0]
        if _is_headline(r) and r.key[4] == 0:
            return example
        return (["Fernway Hiking Boots", "Waterproof Leather", "Free Returns Always"][r.key[3]]
                if _is_headline(r) else "Free returns on Fernway boots, every pair.")

    engine = ItemEngine(write)
    _run(engine, gen)
    assert sample[0] in engine.requests[0].prompt
    heads = Generation.objects.get(pk=gen.pk).results.get().slots["headline"]
    assert heads == ["Fernway Hiking Boots", "Waterproof Leather", "Free Returns Always"]
    assert not set(heads) & set(sample)


def test_the_api_returns_the_items_and_why_this_one(cast, queued_job, client):
    from copywriter.api.services import token_create

    gen = queued_job(cast.alice_m)
    heads = ["Fernway Hiking Boots", "Waterproof Leather", "Free Returns Always"]
    descriptions = ["Free returns on every pair.", "Leather that keeps the rain out."]
    _run(ItemEngine(lambda r: heads[r.key[3]] if _is_headline(r) else descriptions[r.key[3] - 3]), gen)
    secret = token_create(membership=cast.alice_m, name="t", role=cast.alice_m.role).secret
    body = client.get(f"/api/v1/generations/{gen.pk}",
                      HTTP_AUTHORIZATION=f"Bearer {secret}").json()
    variant = body["variants"][0]
    assert variant["slots"]["headline"] == heads
    assert variant["choice"]["items"]["0"]["candidates"] == 1 and variant["choice"]["missing"] == []


def test_an_item_that_says_nothing_from_the_brief_or_claims_what_it_does_not_is_not_chosen(
        cast, queued_job):
    gen = queued_job(cast.alice_m)
    firsts = {0: "I'm not an AI.", 1: "Rated number one by hikers", 2: "Boots for 40% less"}

    def write(r):
        n = r.key[3]
        if _is_headline(r) and r.key[4] == 0:
            return firsts[n]
        return HEADS[n] if _is_headline(r) else DESCRIPTIONS[n - 3]

    _run(ItemEngine(write), gen)
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.slots["headline"] == HEADS


def test_a_slot_job_costs_the_batch_its_items_times_their_candidates(cast, queued_job):
    from copywriter.workspaces.models import Workspace

    gen = queued_job(cast.alice_m, variants=2)
    pipe = Pipeline(me="host:1", queue=gen.queue, engine=None, stages=[], capacity=32,
                    bulk_share=0.75, max_seconds=60, item_candidates=3)
    assert pipe._cost(gen) == 2 * 5 * 3  # 2 variants x (3 headlines + 2 descriptions) x 3
    Workspace.objects.filter(pk=gen.workspace_id).update(candidates=4)
    pipe = Pipeline(me="host:1", queue=gen.queue, engine=None, stages=[], capacity=32,
                    bulk_share=0.75, max_seconds=60, slots=False)
    assert pipe._cost(gen) == 2 * 4  # long-form: variants x best of N


def test_a_copied_field_label_is_taken_off_an_item():
    slot = AD_SLOTS[1]
    line = "Description: Product or service: Fernway hiking boots, free returns."
    assert read_item(line, slot, ["Product or service", "Key benefit"]) == \
        "Fernway hiking boots, free returns."


def test_an_item_that_borrows_the_examples_facts_is_not_chosen():
    from copywriter.pipeline.choice import Brief, score_item

    brief = Brief(product="Hearthside", keyword="", facts=["wood pellet stoves"],
                  values=["Hearthside wood pellet stoves", "cut heating bills"], prompt="",
                  support=["Hearthside wood pellet stoves", "cut heating bills"], banned=[])
    example = ["Grain-free treats from one animal source. Order yours today"]
    sample = "Pawsome grain-free dog treats, one animal source"

    def failed(item):
        return score_item(item, "", brief=brief, logprob=-5, tokens=5, others=[], first=False,
                          examples=example, example_brief=sample).failed

    assert "borrows the example's facts" in failed("Grain-free Hearthside stoves")
    assert failed("Hearthside stoves cut heating bills") == []
    # the example's words that are not its brief's facts are anyone's
    assert failed("Hearthside stoves: order yours today") == []


def test_a_line_that_starts_with_the_search_term_has_no_label_to_take_off():
    slot = AD_SLOTS[1]
    line = "Dog grooming leeds: full groom from 35 pounds"
    assert read_item(line, slot) == "full groom from 35 pounds"  # read as "Label: item"
    assert read_item(line, slot, keep=["dog grooming leeds"]) == line


def _with_keyword(gen, keyword):
    fields = {**gen.fields, "keyword": keyword}
    Generation.objects.filter(pk=gen.pk).update(fields=fields)


def test_the_item_asked_for_the_search_term_carries_it(cast, queued_job):
    """The first item of each slot is asked for the brief's search term; a round that leaves
    it out is followed by one whose candidates start with it."""
    gen = queued_job(cast.alice_m)
    _with_keyword(gen, "boots for hiking")

    def write(r):
        n = r.key[3]
        if r.answer:
            return r.answer + (" Today" if _is_headline(r) else ", free returns on Fernway boots.")
        if 'the name "Fernway"' in r.prompt:  # the second item of each slot: written with it
            return "Fernway Leather Boots" if _is_headline(r) else "Fernway boots keep the rain out."
        return HEADS[n] if _is_headline(r) else DESCRIPTIONS[n - 3]

    engine = ItemEngine(write)
    assert _run(engine, gen) == 1
    asked = [r for r in engine.requests if 'search term "boots for hiking"' in r.prompt]
    assert {r.key[3] for r in asked} == {0, 3}  # the first headline and the first description
    led = [r for r in engine.requests if r.answer]
    assert {r.key[3] for r in led} == {0, 3} and all(r.key[4] >= 1 for r in led)  # round 2 only
    assert all(r.answer.lower() == "boots for hiking" for r in led)
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.slots["headline"][0].lower() == "boots for hiking today"
    assert v.slots["headline"][1:] == ["Fernway Leather Boots", HEADS[2]]
    assert v.slots["description"] == ["Boots for hiking, free returns on Fernway boots.",
                                      "Fernway boots keep the rain out."]


def test_a_search_term_longer_than_a_slot_is_not_asked_of_it(cast, queued_job):
    gen = queued_job(cast.alice_m)
    _with_keyword(gen, "waterproof leather hiking boots uk")  # 34 characters: no headline

    def write(r):
        n = r.key[3]
        if r.answer:
            return r.answer + ", free returns."
        if n == 4:  # asked for the product's name, the term being the first description's
            return "Fernway boots keep the rain out."
        return HEADS[n] if _is_headline(r) else DESCRIPTIONS[n - 3]

    engine = ItemEngine(write)
    assert _run(engine, gen) == 1
    assert {r.key[3] for r in engine.requests if "search term" in r.prompt} == {3}
    assert {r.key[3] for r in engine.requests if r.answer} == {3}
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.slots["headline"] == HEADS
    assert v.slots["description"][0].lower() == "waterproof leather hiking boots uk, free returns."


def test_the_item_asked_for_the_product_names_it_or_the_next_round_starts_with_it(cast, queued_job):
    """With no search term, the first item of each slot is asked for the product's name; a
    round whose candidates all leave it out is followed by one whose candidates start with it,
    and a line led by the name is not read as "Label: item"."""
    gen = queued_job(cast.alice_m)

    def write(r):
        n = r.key[3]
        if r.answer:
            return r.answer + (": Dry Feet" if _is_headline(r) else " boots keep the rain out.")
        return ["Boots For Every Trail", *HEADS[1:]][n] if _is_headline(r) else \
            ["Free returns on every pair.", DESCRIPTIONS[1]][n - 3]

    engine = ItemEngine(write)
    assert _run(engine, gen) == 1
    asked = [r for r in engine.requests if 'Lead with the name "Fernway"' in r.prompt]
    assert {r.key[3] for r in asked} == {0, 3}  # the first headline and the first description
    led = [r for r in engine.requests if r.answer]
    assert {r.key[3] for r in led} == {0, 3} and all(r.answer == "Fernway" for r in led)
    assert all(r.key[4] >= 1 for r in led)  # the first round is asked, not led
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.slots["headline"] == ["Fernway: Dry Feet", *HEADS[1:]]
    assert v.slots["description"] == ["Fernway boots keep the rain out.", DESCRIPTIONS[1]]


def test_a_product_name_that_leaves_no_room_in_a_slot_is_not_asked_of_it():
    from copywriter.pipeline.slots import asks_product, items_for

    items = items_for(AD_SLOTS, {})
    name = "Fernway Outdoor Footwear Co"  # 27 characters: too long to lead a 30-character headline
    assert [i.number for i in items if asks_product(i, {}, name)] == [3]
    assert [i.number for i in items if asks_product(i, {}, "Fernway")] == [0, 3]
    assert [i.number for i in items if asks_product(i, {"keyword": "hiking boots"}, "Fernway")] == [1, 4]
    assert not any(asks_product(i, {}, "") for i in items)


@pytest.mark.parametrize(("item", "why"), [
    ("The email is about Ruth Okafor", "The email is"),
    ("Etsy (140 characters)", "characters"),
    ("You've been given an X post in one format", "format"),
    ("Serves as a preheader for the finance webinar", "preheader"),
    ("I'm happy to help with your webinar needs", "I'm happy to help"),
    ("We saved your seat, Tuesday at 2pm UK time", ""),
    ("Copywriting classes for small teams", ""),  # the brief's own word
])
def test_an_item_that_talks_about_the_writing_job_is_not_copy(item, why):
    from copywriter.pipeline.choice import Brief, score_item
    from copywriter.pipeline.slots import brief_words, job_talk

    slot = {"name": "preheader", "count": 5, "max_chars": 90, "instruction": "A preheader."}
    brief = "Copywriting classes for small teams, webinar Tuesday at 2pm UK time, save your seat"
    got = job_talk(item, slot, brief.lower(), brief_words(brief.lower()))
    assert got == (f"talks about the job: {why!r}" if why else "")
    scored = score_item(item, "", brief=Brief(product="", keyword="", facts=[], values=[brief],
                                              prompt="", support=[brief], banned=[]),
                        logprob=-5, tokens=5, others=[], first=False, slot=slot)
    assert (got in scored.failed) if why else not any("talks about" in f for f in scored.failed)


def test_the_last_round_of_an_item_nothing_passed_starts_with_the_product(cast, queued_job):
    gen = queued_job(cast.alice_m)

    def write(r):
        n = r.key[3]
        if r.answer:
            return r.answer + " Boots Today"
        return "Sleep Better Tonight" if n == 2 else HEADS[n] if _is_headline(r) else DESCRIPTIONS[n - 3]

    engine = ItemEngine(write)
    assert _run(engine, gen, rounds=3) == 1
    third = sorted(r.key[4] for r in engine.requests if r.key[3] == 2)
    assert third == [0, 1, 2, 3]  # says nothing from the brief: written again, three times
    assert [r.key[4] for r in engine.requests if r.answer] == [3]  # only the last round is led
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.slots["headline"] == [*HEADS[:2], "Fernway Boots Today"]


def test_an_item_left_empty_records_the_best_line_it_did_not_show(cast, queued_job, client):
    gen = queued_job(cast.alice_m)

    def write(r):
        return "Sleep Better Tonight" if r.key[3] == 2 else HEADS[r.key[3]] if _is_headline(r) \
            else DESCRIPTIONS[r.key[3] - 3]

    _run(ItemEngine(write), gen, rounds=0)
    v = Generation.objects.get(pk=gen.pk).results.get()
    assert v.choice["missing"] == ["headline 3"]
    why = v.choice["items"]["2"]
    assert why["rejected"] == "Sleep Better Tonight" and "says nothing from the brief" in why["failed"]
    client.force_login(cast.alice)
    page = client.get(f"/w/{cast.alice_m.workspace_id}/generations/{gen.pk}/").content.decode()
    assert "1 item left empty" in page
    assert "headline 3: says nothing from the brief; the best line not shown: <q>Sleep Better Tonight</q>" in page


@pytest.mark.parametrize(("fields", "name"), [
    ({"hotel_name": "Casa Limonaia", "hotel_type": "bed and breakfast"}, "Casa Limonaia"),
    ({"product": "Brightpath online maths tutoring"}, "Brightpath"),
    ({"page": "Category page for Northpeak waterproof hiking jackets: 14 styles"}, "Northpeak"),
    ({"email_about": "Pageturn Books is hosting a signed-copy evening with Ruth Okafor"},
     "Pageturn Books"),
    ({"subject": "Metrica's free guide to running your first A/B test"}, "Metrica"),
    ({"video_about": "Comparing the Kindle Paperwhite and the Kobo Clara, 3 months"},
     "Kindle Paperwhite and the Kobo Clara"),  # a comparison names both
    ({"message": "Buy 2 get 1 free on all Boldbrew coffee pods with code BREW3"}, "Boldbrew"),
    ({"topic": "How To Choose Running Shoes", "details": "Our guide, free to read"}, ""),
])
def test_the_product_is_found_where_the_brief_names_it(fields, name):
    from copywriter.pipeline.choice import product_of

    assert product_of(fields) == name
