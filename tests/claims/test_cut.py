"""Taking out the sentences of long-form copy that hold an unsupported claim
(copywriter/claims/cut.py): what goes, what stays, and when the cut is refused."""

from __future__ import annotations

from copywriter.claims.cut import cut_unsupported, fill_blanks, sentences

SUPPORT = ["Fernway hiking boots", "Waterproof leather, free returns"]


def test_a_text_with_every_claim_supported_is_left_as_it_is():
    text = "Fernway hiking boots in waterproof leather.\n\nFree returns on every pair."
    cut = cut_unsupported(text, support=SUPPORT, product="Fernway")
    assert cut.text == text and cut.taken_out == [] and cut.refused == ""


def test_only_the_sentence_with_the_claim_goes_and_it_is_listed_with_its_reason():
    text = ("Fernway hiking boots keep your feet dry. Every pair has a lifetime warranty. "
            "Free returns, too.")
    cut = cut_unsupported(text, support=SUPPORT, product="Fernway")
    assert cut.text == "Fernway hiking boots keep your feet dry. Free returns, too."
    assert cut.taken_out == [{"sentence": "Every pair has a lifetime warranty.",
                              "claims": [{"text": "lifetime warranty", "kind": "guarantee",
                                          "reason": "not in the brief"}]}]


def test_headings_bullets_and_paragraph_breaks_stay_and_an_emptied_bullet_goes():
    text = ("## Why Fernway\n\nFernway hiking boots in waterproof leather.\n\n"
            "- Free returns\n- Weighs only 300 g\n- Waterproof leather\n\n## Order today\n"
            "Free returns on every pair.")
    cut = cut_unsupported(text, support=SUPPORT, product="Fernway")
    assert cut.text == ("## Why Fernway\n\nFernway hiking boots in waterproof leather.\n\n"
                        "- Free returns\n- Waterproof leather\n\n## Order today\n"
                        "Free returns on every pair.")
    assert [t["sentence"] for t in cut.taken_out] == ["- Weighs only 300 g"]


def test_a_cut_that_would_leave_less_than_half_is_refused_and_the_text_shown_whole():
    text = "Fernway hiking boots: waterproof leather, free returns and a lifetime warranty."
    cut = cut_unsupported(text, support=SUPPORT, product="Fernway")
    assert cut.text == text and cut.taken_out == []
    assert "less than half" in cut.refused


def test_a_cut_that_would_lose_every_mention_of_the_product_is_refused():
    text = ("Fernway boots come with a lifetime warranty. They are made of waterproof leather "
            "and you can send them back for free, with free returns on every order you place.")
    cut = cut_unsupported(text, support=SUPPORT, product="Fernway")
    assert cut.text == text and "every mention of the product" in cut.refused


def test_sentences_end_at_stops_before_a_capital_and_at_line_breaks_only():
    text = "Pack 3.5 kg of gear, e.g. tents. Then go!\nDr. Jones\n"
    spans = [text[s:e].strip() for s, e in sentences(text)]
    assert spans == ["Pack 3.5 kg of gear, e.g. tents.", "Then go!", "Dr.", "Jones"]


def test_a_sentence_with_a_blank_left_to_fill_goes_like_an_unsupported_claim():
    text = ("Fernway hiking boots in waterproof leather. Hi [Client], shall we talk?\n\n"
            "Free returns on every pair.")
    cut = cut_unsupported(text, support=SUPPORT, product="Fernway")
    assert cut.text == "Fernway hiking boots in waterproof leather.\n\nFree returns on every pair."
    assert cut.taken_out == [{"sentence": "Hi [Client], shall we talk?",
                              "claims": [{"text": "[Client]", "kind": "blank",
                                          "reason": "a blank to fill"}]}]


def test_a_blank_the_brief_answers_is_filled_and_an_ambiguous_one_is_not():
    fields = {"company_name": "Brightpath", "contact_name": "Ruth", "product": "maths tutoring",
              "notes": "a long line\nof notes"}
    text, filled = fill_blanks("[Company Name] and [Your Product] for you, [Name]. [Company]!",
                               fields, {"contact_name": "Who signs the email"})
    assert text == "Brightpath and maths tutoring for you, [Name]. Brightpath!"
    assert filled == [{"blank": "[Company Name]", "value": "Brightpath"},
                      {"blank": "[Your Product]", "value": "maths tutoring"},
                      {"blank": "[Company]", "value": "Brightpath"}]
    assert fill_blanks("Hi [Client]", fields) == ("Hi [Client]", [])
