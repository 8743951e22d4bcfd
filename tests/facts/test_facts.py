"""Fact sheets (issue 14): versions, stale edits, limits, scoping, what a generation is given
and keeps, suggestions, and the web, API and bulk paths."""

from __future__ import annotations

import json

import numpy as np
import pytest
from django.test import Client
from django.urls import reverse

from copywriter.facts import services
from copywriter.facts.models import FactSheet, FactSheetVersion
from copywriter.generation.models import Generation
from copywriter.generation.services import GenerationError, generation_create, generation_retry
from tests.support.cast import client_for

GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns"}


@pytest.fixture
def no_broker(monkeypatch):
    """Every facts task the web side would send; nothing reaches a broker."""
    sent: list[tuple] = []
    monkeypatch.setattr(services, "_enqueue", lambda name, *args: sent.append((name, *args)))
    return sent


@pytest.fixture
def boots(cast, no_broker):
    return services.fact_sheet_create(
        membership=cast.alice_m, name="Fernway boots", kind="product",
        facts="Upper: full-grain leather\nWeight: 540 g a boot\n\nWaterproof to 2 hours in water",
        approved=["Keeps feet dry on a day's hike"], banned="Lifetime guarantee\nVegan")


def api(secret: str, method: str, path: str, body: dict | None = None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    if method == "GET":
        return Client().get(path, **headers)
    return Client().post(path, json.dumps(body or {}), content_type="application/json", **headers)


def token(membership, role: str = "editor") -> str:
    from copywriter.api.services import token_create

    return token_create(membership=membership, name="t", role=role).secret


# --- versions -----------------------------------------------------------------------------------

def test_every_save_is_a_new_version_and_old_versions_stay_readable(
        cast, boots, alice_client, no_broker, django_capture_on_commit_callbacks):
    v1 = FactSheetVersion.objects.get(sheet=boots, number=1)
    assert v1.facts == ["Upper: full-grain leather", "Weight: 540 g a boot",
                        "Waterproof to 2 hours in water"]
    assert v1.banned == ["Lifetime guarantee", "Vegan"] and v1.author == cast.alice
    with django_capture_on_commit_callbacks(execute=True):
        v2 = services.fact_sheet_save(membership=cast.bob_m, sheet_id=boots.pk, base_number=1,
                                      name="Fernway boots", kind="product",
                                      facts=["Upper: full-grain leather", "Weight: 520 g a boot"],
                                      approved=v1.approved, banned=v1.banned)
    assert (v2.number, v2.based_on, v2.author) == (2, 1, cast.bob)
    assert no_broker == [("embed_version", v2.pk)], "a worker embeds each new version"
    boots.refresh_from_db()
    assert boots.head_number == 2
    v1.refresh_from_db()
    assert "Weight: 540 g a boot" in v1.facts, "an old version never changes"
    # A save that changes nothing makes no version.
    same = services.fact_sheet_save(membership=cast.bob_m, sheet_id=boots.pk, base_number=2,
                                    name="Fernway boots", kind="product", facts=v2.facts,
                                    approved=v2.approved, banned=v2.banned)
    assert same.number == 2 and boots.versions.count() == 2
    page = alice_client.get(reverse("facts:version", args=[cast.ws.pk, boots.pk, 1]))
    assert page.status_code == 200 and "Weight: 540 g a boot" in page.content.decode()
    edit = alice_client.get(reverse("facts:edit", args=[cast.ws.pk, boots.pk])).content.decode()
    # the last change: one line removed, one added
    assert 'class="del">Weight: 540 g a boot' in edit and 'class="add">Weight: 520 g a boot' in edit


def test_a_stale_edit_is_refused_with_the_users_text_kept(cast, boots, no_broker):
    alice, bob = client_for(cast.alice), client_for(cast.bob)
    url = reverse("facts:edit", args=[cast.ws.pk, boots.pk])
    form = {"name": "Fernway boots", "kind": "product", "facts": "Upper: suede",
            "approved": "", "banned": "", "base_number": 1}
    assert alice.post(url, form).status_code == 302  # Alice saves version 2 on top of 1
    mine = {**form, "facts": "Bob's own line about the sole\nVibram outsole"}
    response = bob.post(url, mine)  # Bob still edits version 1
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone saved version 2" in html and "Nothing was saved" in html
    assert "Bob&#x27;s own line about the sole\nVibram outsole</textarea>" in html, "his text stays"
    assert "Upper: suede" in html, "the latest version is shown to compare"
    assert 'name="base_number" value="2"' in html, "saving again saves on top of the latest"
    boots.refresh_from_db()
    assert boots.head_number == 2 and boots.versions.count() == 2
    with pytest.raises(services.StaleEdit):
        services.fact_sheet_save(membership=cast.bob_m, sheet_id=boots.pk, base_number=1,
                                 name="x", kind="product", facts=[], approved=[], banned=[])
    assert bob.post(url, {**mine, "base_number": 2}).status_code == 302
    assert FactSheetVersion.objects.get(sheet=boots, number=3).facts[1] == "Vibram outsole"


# --- limits --------------------------------------------------------------------------------------

def test_limits_and_control_characters_are_refused_with_a_message_and_nothing_stored(
        cast, no_broker, settings, alice_client):
    settings.FACTS_PER_SHEET, settings.FACT_MAX_CHARS, settings.FACT_SHEETS_PER_WORKSPACE = 3, 40, 2
    bad = {
        "facts": ("one\ntwo\nthree\nfour", "4 lines; a sheet holds at most 3"),
        "approved": ("x" * 41, "41 characters; the limit is 40"),
        "banned": ("fine\nhas\ta tab", "line 2: tabs and other control characters"),
    }
    for key, (value, message) in bad.items():
        with pytest.raises(services.FactsError) as exc:
            services.fact_sheet_create(membership=cast.alice_m, name="Boots", **{key: value})
        assert message in exc.value.field_errors[key]
    with pytest.raises(services.FactsError) as exc:
        services.fact_sheet_create(membership=cast.alice_m, name="Boots\u202e", facts="a")
    assert "control characters" in exc.value.field_errors["name"]
    with pytest.raises(services.FactsError):
        services.fact_sheet_create(membership=cast.alice_m, name="  ", facts="a")
    # The web form says the same, keeps the text and stores nothing.
    response = alice_client.post(reverse("facts:create", args=[cast.ws.pk]),
                                 {"name": "Boots", "kind": "product", "facts": "x" * 41})
    assert response.status_code == 400
    assert "41 characters; the limit is 40" in response.content.decode()
    assert "x" * 41 + "</textarea>" in response.content.decode()
    assert not FactSheet.objects.exists()
    # Sheets per workspace: archived ones take no place; restoring one needs a place.
    a = services.fact_sheet_create(membership=cast.alice_m, name="A")
    services.fact_sheet_create(membership=cast.alice_m, name="B")
    with pytest.raises(services.FactsError, match="most it can keep \\(2\\)"):
        services.fact_sheet_create(membership=cast.alice_m, name="C")
    services.fact_sheet_archive(membership=cast.alice_m, sheet_id=a.pk)
    services.fact_sheet_create(membership=cast.alice_m, name="C")
    with pytest.raises(services.FactsError, match="Archive one"):
        services.fact_sheet_archive(membership=cast.alice_m, sheet_id=a.pk, archived=False)
    assert FactSheet.objects.filter(workspace=cast.ws, archived=False).count() == 2


def test_viewer_reads_but_cannot_write(cast, boots, vera_client):
    ws = cast.ws.pk
    assert vera_client.get(reverse("facts:list", args=[ws])).status_code == 200
    page = vera_client.get(reverse("facts:edit", args=[ws, boots.pk]))
    assert page.status_code == 200 and "Lifetime guarantee" in page.content.decode()
    assert "<textarea" not in page.content.decode()
    for url, data in ((reverse("facts:create", args=[ws]), {"name": "Mine"}),
                      (reverse("facts:edit", args=[ws, boots.pk]),
                       {"name": "Mine", "base_number": 1}),
                      (reverse("facts:archive", args=[ws, boots.pk]), {})):
        assert vera_client.post(url, data).status_code == 403, url
    with pytest.raises(services.FactsError) as exc:
        services.fact_sheet_create(membership=cast.vera_m, name="Mine")
    assert exc.value.status == 403
    response = api(token(cast.alice_m, "viewer"), "POST", "/api/v1/facts", {"name": "Mine"})
    assert response.status_code == 403
    boots.refresh_from_db()
    assert FactSheet.objects.count() == 1 and boots.head_number == 1 and not boots.archived


# --- what a generation is given and keeps --------------------------------------------------------

def test_snapshot_is_stored_on_the_generation_and_the_block_leads_the_prompt(
        cast, boots, ad_template, sent):
    brand = services.fact_sheet_create(membership=cast.alice_m, name="Fernway", kind="brand",
                                       facts="Family company since 1952\nVegan",
                                       banned="Vegan")
    gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD,
                            tone="neutral", variants=1, fact_sheets=[boots.pk, brand.pk])
    assert gen.facts == {
        "sheets": [{"id": boots.pk, "version": 1, "name": "Fernway boots"},
                   {"id": brand.pk, "version": 1, "name": "Fernway"}],
        "facts": ["Upper: full-grain leather", "Weight: 540 g a boot",
                  "Waterproof to 2 hours in water", "Family company since 1952", "Vegan"],
        "approved": ["Keeps feet dry on a day's hike"],
        "banned": ["Lifetime guarantee", "Vegan"],  # once, though both sheets ban it
    }
    block = ("Facts: Upper: full-grain leather; Weight: 540 g a boot; Waterproof to 2 hours in "
             "water; Family company since 1952; Vegan. You may claim: Keeps feet dry on a day's "
             "hike. Do not claim: Lifetime guarantee; Vegan.")
    template_prompt = ad_template.spec().render(GOOD)
    assert gen.prompt == f"{block}\n\n{template_prompt}"
    # The sheet changes afterwards: the generation keeps what it was given, and so does a retry.
    services.fact_sheet_save(membership=cast.alice_m, sheet_id=boots.pk, base_number=1,
                             name="Fernway boots", kind="product", facts=["Upper: suede"],
                             approved=[], banned=[])
    gen.refresh_from_db()
    assert gen.facts["sheets"][0]["version"] == 1
    again = generation_retry(membership=cast.bob_m, generation=gen)
    assert again.facts == gen.facts and again.prompt == gen.prompt
    plain = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD,
                              tone="neutral", variants=1)
    assert plain.facts == {} and plain.prompt == template_prompt


def test_prompt_block_is_capped_keeping_bans_first():
    snap = {"facts": [f"fact number {i} with some words" for i in range(200)],
            "approved": ["approved claim"], "banned": ["never say this", "nor this."]}
    block = services.prompt_block(snap, max_chars=300)
    assert len(block) <= 300
    assert block.startswith("Facts: fact number 0 with some words; ")
    assert block.endswith("Do not claim: never say this; nor this.")
    assert "approved claim" not in block  # approved claims come last when room runs out
    assert services.prompt_block({}) == ""


def test_another_workspaces_sheet_is_refused_on_generate_in_the_api_and_in_bulk(
        cast, boots, ad_template, charlie_client, sent):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from copywriter.bulk.models import BulkRun

    own = cast.other.pk
    response = charlie_client.post(reverse("catalog:detail", args=[own, ad_template.pk]), {
        **GOOD, "tone": "neutral", "variants": 1, "length": "short", "fact_sheets": boots.pk})
    assert response.status_code == 400
    assert f"No fact sheet {boots.pk} in this workspace" in response.content.decode()
    with pytest.raises(GenerationError) as exc:
        generation_create(membership=cast.charlie_m, template=ad_template, fields=GOOD,
                          tone="neutral", variants=1, fact_sheets=[boots.pk])
    assert "fact_sheets" in exc.value.field_errors
    secret = token(cast.charlie_m, "owner")
    response = api(secret, "POST", "/api/v1/generations", {
        "template": ad_template.slug, "fields": GOOD, "tone": "neutral",
        "fact_sheets": [boots.pk]})
    assert response.status_code == 400 and "fact_sheets" in response.json()["errors"]
    for path in (f"/api/v1/facts/{boots.pk}", f"/api/v1/facts/{boots.pk}/versions/1"):
        assert api(secret, "GET", path).status_code == 404, path
    response = api(secret, "POST", f"/api/v1/facts/{boots.pk}/versions",
                   {"name": "Mine", "facts": ["x"], "base_version": 1})
    assert response.status_code == 404
    assert "Fernway boots" not in api(secret, "GET", "/api/v1/facts").content.decode()
    csv = SimpleUploadedFile("rows.csv", b"product,benefit\nBoots,Dry\n", content_type="text/csv")
    response = charlie_client.post(reverse("bulk:upload", args=[own]), {
        "template": ad_template.pk, "tone": "neutral", "length": "short", "file": csv,
        "fact_sheets": boots.pk})
    assert response.status_code == 400 and "No fact sheet" in response.content.decode()
    assert not Generation.objects.exists() and not sent and not BulkRun.objects.exists()
    boots.refresh_from_db()
    assert boots.head_number == 1


def test_archived_and_malformed_sheet_ids_are_refused(cast, boots, ad_template, sent):
    services.fact_sheet_archive(membership=cast.alice_m, sheet_id=boots.pk)
    for ids, message in (([boots.pk], "Archived fact sheets cannot be used"),
                         (["x1"], "Fact sheet ids are numbers"),
                         ("12", "must be a list")):
        with pytest.raises(GenerationError, match=message):
            generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD,
                              tone="neutral", variants=1, fact_sheets=ids)
    assert not Generation.objects.exists()


# --- the generate form, the API and bulk ----------------------------------------------------------

def test_generate_form_lists_sheets_and_generates_with_the_ticked_ones(
        cast, boots, ad_template, bob_client, sent, no_broker):
    url = reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk])
    page = bob_client.get(url).content.decode()
    assert f'name="fact_sheets" value="{boots.pk}"' in page and "Fernway boots" in page
    # The cached form shows a sheet made after it was cached.
    services.fact_sheet_create(membership=cast.alice_m, name="Trail socks")
    assert "Trail socks" in bob_client.get(url).content.decode()
    response = bob_client.post(url, {**GOOD, "tone": "neutral", "variants": 1, "length": "short",
                                     "fact_sheets": [boots.pk]})
    assert response.status_code == 302
    gen = Generation.objects.get()
    assert gen.facts["sheets"] == [{"id": boots.pk, "version": 1, "name": "Fernway boots"}]
    assert gen.prompt.startswith("Facts: Upper: full-grain leather;") and sent == [gen.pk]


def test_suggestions_come_marked_in_the_form_while_the_brief_is_embedded(
        cast, boots, bob_client, no_broker):
    services.fact_sheet_create(membership=cast.alice_m, name="Harbour coffee",
                               facts="Roasted in Porto")
    response = bob_client.get(reverse("facts:suggest", args=[cast.ws.pk]),
                              {"product": "Fernway boots", "benefit": "full-grain leather",
                               "tone": "neutral"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    boots_label = html.split(f'value="{boots.pk}"')[1].split("</label>")[0]
    coffee_label = html.split("Harbour coffee")[1].split("</label>")[0]
    assert "suggested" in boots_label and "suggested" not in coffee_label
    assert f'value="{boots.pk}" checked' in html, "suggestions are ticked when nothing is"
    assert 'hx-trigger="load delay:3s"' in html, "asks again once the brief is embedded"
    assert [name for name, *_ in no_broker] == ["embed_query"]


def test_suggestions_by_vector_are_nearest_first_and_skip_sheets_not_embedded(
        cast, no_broker, monkeypatch):
    def unit(*xs: float) -> list[float]:
        v = np.zeros(384, dtype=np.float32)
        v[:len(xs)] = xs
        return list(v / np.linalg.norm(v))

    sheets = {name: services.fact_sheet_create(membership=cast.alice_m, name=name, facts="x")
              for name in ("near", "middle", "far", "not embedded", "archived")}
    for name, vec in (("near", unit(1, 0.1)), ("middle", unit(1, 1)), ("far", unit(0, 1)),
                      ("archived", unit(1, 0))):
        FactSheetVersion.objects.filter(sheet=sheets[name]).update(embedding=vec)
    services.fact_sheet_archive(membership=cast.alice_m, sheet_id=sheets["archived"].pk)
    found = services.suggest(workspace_id=cast.ws.pk, text="brief", vector=unit(1, 0))
    assert found.method == "vectors"
    assert [s.name for s in found.sheets] == ["near", "middle", "far"]
    assert [s.name for s in services.suggest(workspace_id=cast.ws.pk, text="brief",
                                             vector=unit(0, 1), k=2).sheets] == ["far", "middle"]
    # A new version is not embedded yet: the sheet is skipped until a worker embeds it, and the
    # old version's vector is never used for it.
    services.fact_sheet_save(membership=cast.alice_m, sheet_id=sheets["near"].pk, base_number=1,
                             name="near", kind="product", facts="y", approved="", banned="")
    assert [s.name for s in services.suggest(workspace_id=cast.ws.pk, text="brief",
                                             vector=unit(1, 0)).sheets] == ["middle", "far"]
    # The worker side, with a stand-in for the embedding model.
    monkeypatch.setattr("copywriter.ml.embeddings.embed",
                        lambda texts, batch_size=64: np.array([unit(1, 0)] * len(texts)))
    head = FactSheetVersion.objects.get(sheet=sheets["near"], number=2)
    old = FactSheetVersion.objects.get(sheet=sheets["near"], number=1)
    FactSheetVersion.objects.filter(pk=old.pk).update(embedding=None)
    assert services.version_embed(version_id=old.pk) == "stale"
    assert services.version_embed(version_id=head.pk) == "embedded"
    assert services.version_embed(version_id=head.pk) == "done"
    # A brief without a vector: ranked by shared words, its embedding asked for; once the worker
    # stored it, by vectors. The cache key names the workspace.
    first = services.suggest(workspace_id=cast.ws.pk, text="something else")
    assert first.method == "words" and no_broker[-1][0] == "embed_query"
    key = no_broker[-1][1]
    assert key.startswith(f"{cast.ws.pk}:")
    assert services.query_embed(key=key) == "embedded"
    second = services.suggest(workspace_id=cast.ws.pk, text="something else")
    assert second.method == "vectors" and [s.name for s in second.sheets][0] == "near"
    assert services.suggest(workspace_id=cast.other.pk, text="something else").sheets == []


def test_briefs_embedded_for_suggestions_are_capped_per_workspace_and_minute(cast, no_broker,
                                                                             monkeypatch):
    monkeypatch.setattr(services, "QUERY_EMBEDS_PER_MINUTE", 3)
    for i in range(6):
        found = services.suggest(workspace_id=cast.ws.pk, text=f"brief number {i}")
        assert found.method == "words"
    services.suggest(workspace_id=cast.ws.pk, text="brief number 0")  # the same brief: no new ask
    assert [args[0] for args in no_broker] == ["embed_query"] * 3
    services.suggest(workspace_id=cast.other.pk, text="brief number 0")  # another workspace's own
    assert len(no_broker) == 4


def test_api_create_read_update_with_stale_edit_and_generate(cast, ad_template, sent, no_broker):
    secret = token(cast.bob_m)
    response = api(secret, "POST", "/api/v1/facts", {
        "name": "Fernway boots", "kind": "product", "facts": ["Full-grain leather", " "],
        "banned": ["Lifetime guarantee"]})
    assert response.status_code == 201, response.content
    sheet = response.json()
    assert sheet["version"] == 1 and sheet["facts"] == ["Full-grain leather"]
    sid = sheet["id"]
    bad = api(secret, "POST", "/api/v1/facts", {"name": "X", "facts": ["a\nb"]})
    assert bad.status_code == 400 and "control characters" in bad.json()["errors"]["facts"]
    saved = api(secret, "POST", f"/api/v1/facts/{sid}/versions", {
        "name": "Fernway boots", "facts": ["Suede upper"], "base_version": 1})
    assert saved.status_code == 201 and saved.json()["version"] == 2
    stale = api(secret, "POST", f"/api/v1/facts/{sid}/versions", {
        "name": "Fernway boots", "facts": ["Mine"], "base_version": 1})
    assert stale.status_code == 409 and stale.json()["head_version"] == 2
    assert "Nothing was saved" in stale.json()["detail"]
    old = api(secret, "GET", f"/api/v1/facts/{sid}/versions/1").json()
    assert old["facts"] == ["Full-grain leather"]
    detail = api(secret, "GET", f"/api/v1/facts/{sid}").json()
    assert [v["number"] for v in detail["versions"]] == [2, 1] and detail["facts"] == ["Suede upper"]
    listed = api(secret, "GET", "/api/v1/facts").json()
    assert [item["id"] for item in listed["items"]] == [sid]
    gen = api(secret, "POST", "/api/v1/generations", {
        "template": ad_template.slug, "fields": GOOD, "tone": "neutral", "variants": 1,
        "fact_sheets": [sid]})
    assert gen.status_code == 202, gen.content
    body = gen.json()
    assert body["facts"]["sheets"] == [{"id": sid, "version": 2, "name": "Fernway boots"}]
    assert Generation.objects.get(pk=body["id"]).prompt.startswith("Facts: Suede upper.")


def test_a_bulk_run_gives_every_row_the_facts_chosen_when_it_was_made(
        cast, boots, ad_template, sent):
    from copywriter.bulk.services import bulk_run_create, bulk_run_start

    run = bulk_run_create(membership=cast.alice_m, template=ad_template, tone="neutral",
                          file_name="ads.csv", fact_sheets=[boots.pk],
                          data=b"product,benefit\nBoots,Dry feet\nSocks,Warm feet\n")
    assert run.facts["sheets"] == [{"id": boots.pk, "version": 1, "name": "Fernway boots"}]
    # The sheet changes before the run starts: the rows get what was chosen.
    services.fact_sheet_save(membership=cast.alice_m, sheet_id=boots.pk, base_number=1,
                             name="Fernway boots", kind="product", facts="Changed",
                             approved="", banned="")
    bulk_run_start(membership=cast.alice_m, run=run)
    gens = list(Generation.objects.filter(workspace=cast.ws))
    assert len(gens) == 2
    assert all(g.facts == run.facts and g.prompt.startswith("Facts: Upper: full-grain leather;")
               for g in gens)


def test_embeddings_go_to_the_workers_with_torch_at_the_lowest_priority(monkeypatch, settings):
    from copywriter.facts import tasks

    calls: list[dict] = []
    monkeypatch.setattr(tasks.embed_version, "apply_async", lambda **kw: calls.append(kw))
    services._enqueue("embed_version", 5)
    assert calls[0]["args"] == [5] and calls[0]["priority"] == 9
    assert settings.CELERY_TASK_ROUTES["facts.*"]["queue"] == settings.GENERATION_QUEUE
