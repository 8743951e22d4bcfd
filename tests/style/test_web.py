"""House style on the web, in the API and in backups: owners edit the rules and members read
them; the document panel marks findings and its one-click fixes save new versions through
documents' save service (a stale fix is kept as a conflict copy); a variant's fixes go to a copy;
the API reads, replaces and checks; a backup carries the rules."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from copywriter.api.services import token_create
from copywriter.backup import services as backup
from copywriter.documents.models import DocumentVersion, VersionKind
from copywriter.documents.services import document_create, document_save
from copywriter.generation.models import Generation, Variant
from copywriter.style import services
from copywriter.style.models import StyleRules

RULES = {"banned": [{"term": "world-class", "reason": "unprovable"}],
         "preferred": [{"use": "email", "instead_of": "e-mail"}], "spelling": "en-US",
         "exclamations": "none", "generic": False}
BODY = "Our world-class boots come in every colour! E-mail us."


@pytest.fixture
def rules(cast):
    return services.rules_save(membership=cast.alice_m, data=RULES)


@pytest.fixture
def doc(cast, rules):
    return document_create(membership=cast.alice_m, title="Spring boots", body=BODY)


# --- the rules page ------------------------------------------------------------------------------

def test_members_read_the_rules_and_only_owners_change_them(cast, rules, vera_client, bob_client,
                                                            alice_client):
    url = reverse("style:rules", args=[cast.ws.pk])
    html = vera_client.get(url).content.decode()
    assert "world-class | unprovable" in html and "<fieldset disabled>" in html
    assert "Only the workspace's owners change the house style." in html
    assert bob_client.post(url, {"banned": "cheap"}).status_code == 403
    assert StyleRules.objects.get(workspace=cast.ws).banned == RULES["banned"]
    response = alice_client.post(url, {"banned": "cheap | off brand\nworld-class", "preferred":
                                       "e-mail -> email", "spelling": "en-GB",
                                       "exclamations": "one", "max_grade": "9",
                                       "max_rewrites": "1", "generic": "on",
                                       "disclaimers": "ads: Terms apply."})
    assert response.status_code == 302
    saved = StyleRules.objects.get(workspace=cast.ws)
    assert saved.banned == [{"term": "cheap", "reason": "off brand"},
                            {"term": "world-class", "reason": ""}]
    assert (saved.spelling, saved.exclamations, saved.max_grade, saved.max_rewrites, saved.generic) \
        == ("en-GB", "one", 9, 1, True)
    assert saved.disclaimers == [{"category": "ads", "text": "Terms apply."}]
    assert saved.updated_by == cast.alice


def test_a_bad_rule_is_refused_with_a_message_and_the_typed_text_kept(cast, rules, alice_client):
    url = reverse("style:rules", args=[cast.ws.pk])
    typed = "cheap | off brand\nnew term"
    response = alice_client.post(url, {"banned": typed, "preferred": "utilise without an arrow",
                                       "exclamations": "any", "max_rewrites": "2"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Line 1 (\u201cutilise without an arrow\u201d): write \u201cinstead of -&gt; use\u201d." in html
    assert "cheap | off brand\nnew term</textarea>" in html
    response = alice_client.post(url, {"spelling": "en-AU", "exclamations": "any",
                                       "max_grade": "40", "max_rewrites": "2",
                                       "disclaimers": "poetry: Terms apply."})
    html = response.content.decode()
    assert response.status_code == 400 and "3 rules need fixing" in html
    assert "A school grade from 1 to 20" in html and "is not a template category" in html
    assert StyleRules.objects.get(workspace=cast.ws).spelling == "en-US"


def test_a_rules_change_is_recorded_with_what_changed(cast, rules, monkeypatch):
    recorded = []
    real = services.audit.record

    def spy(**kw):
        recorded.append(kw)
        return real(**kw)

    monkeypatch.setattr(services.audit, "record", spy)
    services.rules_save(membership=cast.alice_m, data={**RULES, "spelling": "en-GB"})
    services.rules_save(membership=cast.alice_m, data={**RULES, "spelling": "en-GB"})  # no change
    assert len(recorded) == 1
    event = recorded[0]
    assert event["action"] == "style.rules_changed" and event["actor"] == cast.alice
    assert event["workspace"] == cast.ws and event["details"]["changed"] == ["spelling"]
    assert event["details"]["old"] == {"spelling": "en-US"}


def test_the_try_box_checks_a_sample_against_the_rules(cast, rules, vera_client):
    html = vera_client.get(reverse("style:rules", args=[cast.ws.pk]),
                           {"sample": "A world-class <b>colour</b>"}).content.decode()
    assert '<mark class="style banned" data-rule="banned"' in html
    assert "&lt;b&gt;" in html and "<b>colour" not in html


# --- the document panel --------------------------------------------------------------------------

def test_the_document_page_loads_the_panel_by_url(cast, doc, alice_client):
    html = alice_client.get(reverse("documents:edit", args=[cast.ws.pk, doc.pk])).content.decode()
    assert f'hx-get="{reverse("style:document_panel", args=[cast.ws.pk, doc.pk])}"' in html


def test_the_panel_marks_each_finding_with_its_reason(cast, doc, vera_client):
    response = vera_client.get(reverse("style:document_panel", args=[cast.ws.pk, doc.pk]),
                               HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert ('<mark class="style banned" data-rule="banned" title="\u201cworld-class\u201d is '
            'banned: unprovable">world-class</mark>') in html
    assert "4 house style findings" in html and "1 banned term" in html
    assert "Fix: &ldquo;color&rdquo;" not in html  # a viewer sees no fix buttons


def test_one_fix_saves_a_new_version_through_the_documents_service(cast, doc, bob_client):
    findings = services.document_findings(DocumentVersion.objects.get(document=doc, number=1))
    colour = next(f for f in findings if f.rule == "spelling")
    response = bob_client.post(reverse("style:document_fix", args=[cast.ws.pk, doc.pk]),
                               {"base_number": 1, "rule": colour.rule, "start": colour.start,
                                "end": colour.end}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Applied 1 fix: saved as version 2." in response.content.decode()
    doc.refresh_from_db()
    assert doc.head_number == 2 and doc.body == BODY.replace("colour", "color")
    v2 = DocumentVersion.objects.get(document=doc, number=2)
    assert v2.kind == VersionKind.EDIT and v2.author == cast.bob and v2.based_on == 1


def test_all_fixes_at_once_and_the_banned_term_stays_for_a_person(cast, doc, bob_client):
    bob_client.post(reverse("style:document_fix", args=[cast.ws.pk, doc.pk]),
                    {"base_number": 1, "fix": "all"})
    doc.refresh_from_db()
    assert doc.body == "Our world-class boots come in every color. Email us."
    left = services.document_findings(DocumentVersion.objects.get(document=doc, number=2))
    assert [(f.rule, f.replacement) for f in left] == [("banned", None)]


def test_a_stale_fix_is_kept_as_a_conflict_copy_and_overwrites_nothing(cast, doc, bob_client):
    document_save(membership=cast.alice_m, document_id=doc.pk, title=doc.title,
                  body=BODY + " Alice's edit.", base_number=1)
    response = bob_client.post(reverse("style:document_fix", args=[cast.ws.pk, doc.pk]),
                               {"base_number": 1, "fix": "all"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 409
    assert "kept as version 3 (a conflict copy)" in response.content.decode()
    doc.refresh_from_db()
    assert doc.head_number == 2 and doc.body.endswith("Alice's edit.")
    kept = DocumentVersion.objects.get(document=doc, number=3)
    assert kept.kind == VersionKind.CONFLICT and kept.body == "Our world-class boots come in every color. Email us."


def test_a_fix_that_no_longer_applies_says_so(cast, doc, bob_client):
    response = bob_client.post(reverse("style:document_fix", args=[cast.ws.pk, doc.pk]),
                               {"base_number": 1, "rule": "spelling", "start": 0, "end": 3},
                               HTTP_HX_REQUEST="true")
    assert response.status_code == 409 and "That fix no longer applies" in response.content.decode()
    assert DocumentVersion.objects.filter(document=doc).count() == 1


def test_viewers_cannot_fix(cast, doc, vera_client):
    response = vera_client.post(reverse("style:document_fix", args=[cast.ws.pk, doc.pk]),
                                {"base_number": 1, "fix": "all"})
    assert response.status_code == 403 and DocumentVersion.objects.filter(document=doc).count() == 1


def test_document_findings_for_the_workflow(cast, doc):
    version = DocumentVersion.objects.get(document=doc, number=1)
    assert {f.rule for f in services.document_findings(version)} == {"banned", "spelling",
                                                                      "exclamations", "preferred"}
    clean = document_create(membership=cast.alice_m, title="Clean", body="Boots for the trail.")
    assert services.document_findings(clean.versions.get()) == []
    services.rules_save(membership=cast.alice_m, data={**RULES, "generic": True})
    advice = document_create(membership=cast.alice_m, title="Advice", body="The the boots.")
    found = services.document_findings(advice.versions.get())
    assert [f.rule for f in found] == ["generic:lexical_illusions"]
    assert services.blocking(found) == []  # proselint's advice does not hold up an approval
    assert [f.rule for f in services.blocking(services.document_findings(version))] == [
        "banned", "spelling", "exclamations", "preferred"]


# --- the variant panel ---------------------------------------------------------------------------

@pytest.fixture
def variant(cast, ad_template, rules):
    gen = Generation.objects.create(workspace=cast.ws, created_by=cast.alice, template=ad_template,
                                    template_version=ad_template.current,
                                    fields={"product": "Boots", "benefit": "Dry"}, prompt="p",
                                    tone="neutral", variants=1, status="done")
    return Variant.objects.create(generation=gen, index=0, text=BODY, finished=True)


def test_a_variants_fixes_go_to_a_copy_for_saving_and_the_variant_is_unchanged(cast, variant,
                                                                              bob_client):
    url = reverse("style:variant_panel", args=[cast.ws.pk, variant.generation_id, 0])
    html = bob_client.get(url, {"fix": "all"}, HTTP_HX_REQUEST="true").content.decode()
    fixed = "Our world-class boots come in every color. Email us."
    assert f">{fixed}</textarea>" in html and "3 fixes applied to a copy" in html
    variant.refresh_from_db()
    assert variant.text == BODY
    response = bob_client.post(reverse("style:variant_save", args=[cast.ws.pk, variant.generation_id, 0]),
                               {"text": fixed})
    assert response.status_code == 302
    saved = cast.ws.documents.get(title__endswith="(house style)")
    assert saved.body == fixed and saved.versions.get().kind == VersionKind.GENERATION


def test_one_fix_of_a_variant(cast, variant, vera_client):
    url = reverse("style:variant_panel", args=[cast.ws.pk, variant.generation_id, 0])
    start = BODY.index("E-mail")
    html = vera_client.get(url, {"fix": "one", "rule": "preferred", "start": start,
                                 "end": start + 6}).content.decode()
    assert ">Our world-class boots come in every colour! Email us.</textarea>" in html
    assert "Save as a new document" not in html  # a viewer may read the copy, not save it


# --- the API -------------------------------------------------------------------------------------

def _api(client, secret, method, path, body=None):
    send = getattr(client, method)
    kw = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if body is not None:
        return send(f"/api/v1{path}", json.dumps(body), content_type="application/json", **kw)
    return send(f"/api/v1{path}", **kw)


def test_the_api_reads_replaces_and_checks(cast, client):
    owner = token_create(membership=cast.alice_m, name="o", role="owner").secret
    editor = token_create(membership=cast.bob_m, name="e", role="editor").secret
    got = _api(client, editor, "get", "/style/rules").json()
    assert got["banned"] == [] and got["exclamations"] == "any" and got["generic"] is True
    refused = _api(client, editor, "put", "/style/rules", RULES)
    assert refused.status_code == 403 and "Only the workspace's owners" in refused.json()["detail"]
    put = _api(client, owner, "put", "/style/rules", RULES)
    assert put.status_code == 200 and put.json()["spelling"] == "en-US"
    assert _api(client, editor, "get", "/style/rules").json()["banned"] == RULES["banned"]
    checked = _api(client, editor, "post", "/style/check", {"text": BODY}).json()
    assert checked["count"] == 4 and checked["fixable"] == 3
    assert checked["fixed"] == "Our world-class boots come in every color. Email us."
    assert checked["findings"][0] == {"rule": "banned", "start": 4, "end": 15, "replacement": None,
                                      "message": "\u201cworld-class\u201d is banned: unprovable"}


def test_the_api_says_what_is_wrong_with_bad_rules(cast, client):
    owner = token_create(membership=cast.alice_m, name="o", role="owner").secret
    bad = _api(client, owner, "put", "/style/rules",
               {"spelling": "en-AU", "preferred": [{"use": "email", "instead_of": "email"}],
                "disclaimers": [{"category": "poetry", "text": "Terms apply."}]})
    assert bad.status_code == 400
    errors = bad.json()["errors"]
    assert errors["spelling"] == "Choose one of '', 'en-US', 'en-GB'."
    assert errors["preferred[0].use"] == "The preferred term is the same as the one it replaces."
    assert errors["disclaimers[0].category"].startswith("\u201cpoetry\u201d is not a template category")
    assert not StyleRules.objects.filter(workspace=cast.ws).exists()
    too_long = _api(client, owner, "post", "/style/check", {"text": "x" * 200_001})
    assert too_long.status_code == 413


# --- backups ------------------------------------------------------------------------------------

def test_a_backup_carries_the_rules_and_restores_them_where_a_workspace_has_none(cast, rules):
    data = json.loads(json.dumps(backup.dump(workspace_ids=[cast.ws.pk])))
    assert data["style_rules"][0]["rules"]["banned"] == RULES["banned"]
    assert data["style_rules"][0]["updated_by"] == "alice@example.com"
    StyleRules.objects.filter(workspace=cast.ws).delete()
    report = backup.restore(data)
    assert report.created["style_rules"] == 1
    restored = StyleRules.objects.get(workspace=cast.ws)
    assert services.rules_to_dict(services.as_rules(restored)) == services.rules_to_dict(rules)
    services.rules_save(membership=cast.alice_m, data={**RULES, "spelling": "en-GB"})
    again = backup.restore(data)  # a live workspace's own rules win
    assert again.existing["style_rules"] == 1
    assert StyleRules.objects.get(workspace=cast.ws).spelling == "en-GB"


def test_a_backup_with_bad_rules_is_refused_before_anything_is_written(cast, rules):
    data = json.loads(json.dumps(backup.dump(workspace_ids=[cast.ws.pk])))
    data["style_rules"][0]["rules"]["spelling"] = "klingon"
    data["style_rules"][0]["rules"]["banned"] = "not a list"
    with pytest.raises(backup.BackupError) as caught:
        backup.validate(data)
    assert "style_rules[0].rules.banned: Must be a list." in caught.value.message
    assert "style_rules[0].rules.spelling: Choose one of" in caught.value.message
