"""The quality eval's checks (copywriter/quality/checks.py) on tiny inline examples: each check
catches what it is for and lets the right thing pass. The brief set in data/quality is never
used here."""

from __future__ import annotations

from copywriter.quality import checks as C

AD_RULES = {"kind": "slot", "slots": [{"name": "headline", "count": 3, "max_chars": 30},
                                      {"name": "description", "count": 2, "max_chars": 90}]}
GOOD_AD = """Sports Physio Near You
Same-Week Appointments
No GP Referral Needed
Book a 45-minute assessment with a sports physio this week. No referral needed.
Get back to training sooner with Quayside Physio. Book online today."""


# --- format ----------------------------------------------------------------------------------

def test_search_ad_with_three_short_headlines_and_two_descriptions_passes():
    result = C.check_format(GOOD_AD, AD_RULES, {})
    assert result.ok is True, result.failures
    assert result.items["headline"][0] == "Sports Physio Near You"


def test_search_ad_list_markers_labels_and_section_lines_are_not_counted_as_items():
    text = ("Headlines:\n1. Sports Physio Near You\n2. Same-Week Appointments\n"
            "3. Headline 3: No GP Referral Needed\n\nDescriptions:\n"
            "- Book a 45-minute assessment this week.\n- \"Book online today.\"")
    result = C.check_format(text, AD_RULES, {})
    assert result.ok is True, result.failures
    assert result.items["headline"][2] == "No GP Referral Needed"


def test_search_ad_headline_over_30_characters_fails_and_says_which():
    text = GOOD_AD.replace("Same-Week Appointments", "Same-Week Appointments For Every Athlete")
    result = C.check_format(text, AD_RULES, {})
    assert result.ok is False
    assert result.failures == ["headline 2 has 40 characters (at most 30)"]


def test_search_ad_with_a_preamble_line_fails_the_count():
    result = C.check_format("Here are your ad headlines and descriptions\n" + GOOD_AD, AD_RULES, {})
    assert result.ok is False
    assert result.failures[0] == "6 line(s), expected 3 headline + 2 description"


def test_count_and_limit_can_come_from_the_briefs_fields():
    rules = {"slots": [{"name": "subject", "count": {"field": "count"},
                        "max_chars": {"field": "max_chars"}}]}
    text = "Your free dessert awaits\nFive new dishes Thursday"
    assert C.check_format(text, rules, {"count": "2", "max_chars": "40"}).ok is True
    short = C.check_format(text, rules, {"count": "2", "max_chars": "20"})
    assert short.failures == ["subject 1 has 24 characters (at most 20)",
                              "subject 2 has 24 characters (at most 20)"]
    assert C.check_format(text, rules, {"count": "3", "max_chars": "40"}).ok is False


def test_limit_picked_by_a_choice_field_through_a_map():
    rules = {"slots": [{"name": "title", "count": 1, "max_chars": {
        "field": "marketplace", "map": {"eBay (80 characters)": 80, "Amazon (200 characters)": 200}}}]}
    title = "Lumio Rechargeable Bike Light Set, 1000 Lumen Front and 120 Lumen Rear, USB-C, IPX6"
    assert C.check_format(title, rules, {"marketplace": "Amazon (200 characters)"}).ok is True
    assert C.check_format(title, rules, {"marketplace": "eBay (80 characters)"}).ok is False


def test_labelled_parts_are_found_by_label_and_the_label_may_sit_on_its_own_line():
    rules = {"slots": [{"name": "primary_text", "count": 1, "label": "Primary text"},
                       {"name": "headline", "count": 1, "label": "Headline", "max_chars": 40},
                       {"name": "description", "count": 1, "label": "Description", "max_chars": 30}]}
    text = "Headline: Bread like the bakery\nPrimary text:\nMiss real bread? Fresh loaves every Friday.\nDescription: First box half price"
    result = C.check_format(text, rules, {})
    assert result.ok is True, result.failures
    assert result.items["primary_text"] == ["Miss real bread? Fresh loaves every Friday."]
    missing = C.check_format("Primary text: Miss real bread?\nHeadline: Bread", rules, {})
    assert missing.failures == ['0 "Description:" line(s), expected 1']


def test_lines_outside_the_labelled_parts_fail():
    rules = {"slots": [{"name": "intro", "count": 1, "label": "Intro"}]}
    result = C.check_format("Intro: Rotas in minutes.\nBook a demo today!", rules, {})
    assert result.failures == ["1 line(s) outside the labelled parts: 'Book a demo today!'"]


def test_min_chars_rejects_a_too_short_meta_description():
    rules = {"slots": [{"name": "description", "count": 1, "min_chars": 70, "max_chars": 160}]}
    assert C.check_format("Oak tables.", rules, {}).failures == [
        "description 1 has 11 characters (at least 70)"]


def test_long_form_word_range_required_and_forbidden_parts():
    rules = {"kind": "long", "words": {"min": 5, "max": 12},
             "require": [{"name": "How to apply heading", "pattern": r"(?im)^#+\s*how to apply"}],
             "forbid": [{"name": "'nestled'", "pattern": r"(?i)\bnestled\b"}]}
    good = "A calm role for you.\n\n## How to apply\nSend your CV."
    assert C.check_format(good, rules, {}).ok is True
    bad = "A role nestled in town, for you and many more words than allowed here now."
    assert C.check_format(bad, rules, {}).failures == [
        "15 words (at most 12)", "missing: How to apply heading", "has: 'nestled'"]


def test_word_range_can_depend_on_a_choice_field():
    rules = {"words": {"field": "length", "map": {"short": {"min": 1, "max": 3}}}}
    assert C.check_format("one two three four", rules, {"length": "short"}).ok is False
    assert C.check_format("one two", rules, {"length": "short"}).ok is True


def test_a_templates_own_output_slots_win_over_formats_yaml():
    formats = {"x": {"kind": "long", "words": {"min": 100}}}
    slots = [{"name": "line", "count": 1, "max_chars": 10}]
    assert C.rules_for("x", formats=formats, template_output={"slots": slots}) == {
        "kind": "slot", "slots": slots}
    assert C.rules_for("x", formats=formats, template_output={"format": "plain"}) == formats["x"]
    assert C.rules_for("y", formats=formats) is None
    assert C.check_format("anything", None, {}).ok is None


def test_formats_yaml_loads_and_every_slot_rule_has_a_name_and_a_count():
    formats = C.load_formats()
    assert formats["google-search-ad"]["slots"][0] == {"name": "headline", "count": 3, "max_chars": 30}
    for rules in formats.values():
        for slot in rules.get("slots") or []:
            assert slot["name"] and ("count" in slot or "min" in slot or "max" in slot)


# --- invented numbers ------------------------------------------------------------------------

def test_numbers_from_the_brief_pass_in_any_spelling_of_their_value():
    brief = "Full groom from 35 pounds, 2,400 for aligners, 24/7, open 6 days, 10% off"
    text = "Grooms from £35. Aligners from 2400. Open 24/7, six days a week. Save 10%!"
    assert C.invented_numbers(text, brief=brief) == []


def test_a_price_percentage_or_duration_not_in_the_brief_is_reported():
    brief = "Free roof survey, installed in 2 days"
    text = "Save 30% on panels from $4,999, installed in 2 days with a 10-year guarantee."
    assert C.invented_numbers(text, brief=brief) == ["30", "$4,999", "10"]


def test_spelled_out_numbers_are_claims_too_but_a_plain_one_is_not():
    brief = "Sessions on Saturday mornings"
    text = "One of our coaches runs four hours of classes, and one week free."
    assert C.invented_numbers(text, brief=brief) == ["four hours", "one week"]


def test_list_numbering_item_labels_and_script_time_codes_are_not_claims():
    text = "1. Headline 2: Fresh bread\n0-3s: Hook\n3-10s: Beat at 0:10\n2) Tip 3 done"
    assert C.invented_numbers(text, brief="bread") == []


def test_identifiers_with_digits_are_not_quantities():
    assert C.invented_numbers("3D scans, B2B teams, USB-C, code BREW3", brief="") == []


# --- product, facts, keyword -----------------------------------------------------------------

def test_product_named_with_and_for_ampersand_and_any_case():
    assert C.names_product("Cook with EMBER AND OAK tonight", "Ember & Oak") is True
    assert C.names_product("Cook with a cast iron pan", "Ember & Oak") is False
    assert C.names_product("anything", None) is None


def test_product_must_be_a_whole_word_match():
    assert C.names_product("Kettlebells for all", "Kettle") is False


def test_facts_carried_by_any_of_their_words_dashes_and_plurals_aside():
    facts = [{"fact": "45-minute assessment", "any": ["45-minute", "45 min"]},
             {"fact": "no GP referral", "any": ["referral"]},
             {"fact": "hot tubs", "any": ["hot tub"]}]
    assert C.facts_carried("A 45 minute check, hot tubs included.", facts) == [True, False, True]


def test_keyword_exact_phrase_only():
    assert C.uses_keyword("Find a Sports-Physio near me today", "sports physio near me") is True
    assert C.uses_keyword("Find a physio near me", "sports physio near me") is False
    assert C.uses_keyword("text", None) is None


# --- placeholders ----------------------------------------------------------------------------

def test_placeholders_in_brackets_braces_angles_and_xx_are_found():
    text = "Hi [Your Name], visit <insert link> or call {phone}. Save XX% at [Company]."
    assert C.placeholders(text) == ["[Your Name]", "<insert link>", "{phone}", "[Company]", "XX%"]


def test_bracketed_on_screen_text_is_not_a_placeholder():
    assert C.placeholders("0-3s: Basil dying? [Tap the link for the guide] (free)") == []


# --- echoed instructions ---------------------------------------------------------------------

PROMPT = ('Write a Google search ad for Tidewell solar.\nKey benefit or offer: Free roof survey\n'
          'Give 3 headlines of at most 30 characters each, then 2 descriptions.\n'
          'Put each on its own line, headlines first. End with a clear call to action.')


def test_output_repeating_an_instruction_sentence_is_caught():
    text = "Tidewell Solar Panels\nPut each on its own line, headlines first.\nBook now"
    assert C.echoed_instructions(text, prompt=PROMPT, field_values=["Tidewell solar", "Free roof survey"]) == [
        "Put each on its own line, headlines first."]


def test_repeating_the_field_values_is_not_an_echo():
    benefit = "Free roof survey and panels installed in two days"
    prompt = PROMPT.replace("Free roof survey", benefit)
    text = f"Tidewell solar. {benefit}. Book today."
    assert C.echoed_instructions(text, prompt=prompt, field_values=["Tidewell solar", benefit]) == []


def test_check_variant_puts_every_check_together():
    brief = {"fields": {"product": "Quayside Physio", "benefit": "Same-week appointments, 45-minute assessments"},
             "product": "Quayside Physio", "keyword": "sports physio",
             "facts": [{"fact": "same-week", "any": ["same-week"]}, {"fact": "45 min", "any": ["45-minute"]}]}
    result = C.check_variant(GOOD_AD + " [Your Name]", brief=brief, prompt=PROMPT, rules=AD_RULES)
    assert result.format_ok is True and result.names_product is True
    assert result.facts == [True, True] and result.keyword is True
    assert result.placeholders == ["[Your Name]"] and result.invented_numbers == []
    assert result.echoed == []


def test_unsupported_claims_are_counted_as_the_claims_check_finds_them_and_old_runs_say_not_measured():
    from copywriter.quality.harness import score

    support = ["Fernway hiking boots", "Waterproof leather, free returns"]
    assert C.unsupported_claims("Fernway boots, free returns.", support=support) == []
    assert C.unsupported_claims("Fernway boots with a lifetime warranty, from £89.", support=support) == [
        "lifetime warranty (not in the brief)", "£89 (not in the brief)"]
    checks = {"format_ok": True, "invented_numbers": [], "names_product": True, "facts": [True],
              "keyword": None, "echoed": [], "placeholders": []}
    assert score({"checks": checks})["unsupported_claim"] is None  # a run saved before the metric
    assert score({"checks": {**checks, "unsupported_claims": ["£89 (not in the brief)"]}})[
        "unsupported_claim"] is True
