"""The JSON API: tokens, scoping, validation, limits, conflicts, and JSON errors everywhere."""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from copywriter.api.models import ApiToken
from copywriter.api.services import hash_secret, token_create
from copywriter.documents.models import Document, DocumentVersion
from copywriter.documents.services import document_create
from copywriter.generation.models import Generation, Variant
from copywriter.workspaces.models import Membership, Role

GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns"}


class Api:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, secret: str | None, client: Client | None = None):
        self.secret = secret
        self.client = client or Client()

    def _headers(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.secret}"} if self.secret else {}

    def get(self, path: str, **params):
        return self.client.get(f"/api/v1{path}", params, **self._headers())

    def post(self, path: str, body=None, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(f"/api/v1{path}", data, content_type="application/json",
                                **self._headers())


def make_token(membership, role=None, name="test") -> str:
    return token_create(membership=membership, name=name, role=role or membership.role).secret


@pytest.fixture
def apis(cast):
    return {
        "owner": Api(make_token(cast.alice_m)),
        "editor": Api(make_token(cast.bob_m)),
        "viewer": Api(make_token(cast.bob_m, role="viewer")),
        "outsider": Api(make_token(cast.charlie_m)),
    }


# --- tokens --------------------------------------------------------------------------------------

def test_only_the_hash_of_a_token_is_stored(cast):
    new = token_create(membership=cast.bob_m, name="CMS", role=Role.EDITOR)
    row = ApiToken.objects.get(pk=new.token.pk)
    assert new.secret.startswith("cw_") and len(new.secret) > 40
    assert row.secret_hash == hash_secret(new.secret) and new.secret not in row.secret_hash
    assert new.secret.startswith(row.prefix) and len(row.prefix) < 12


def test_settings_page_shows_the_token_once(cast, bob_client):
    url = reverse("api:tokens", args=[cast.ws.pk])
    response = bob_client.post(url, {"name": "CMS import", "role": "editor"})
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    html = response.content.decode()
    secret = html.split('<code id="new-token">')[1].split("<")[0]
    assert secret.startswith("cw_")
    assert Api(secret).get("/templates").status_code == 200
    again = bob_client.get(url).content.decode()
    assert "CMS import" in again and secret not in again and secret[:9] in again


def test_settings_page_refuses_bad_token_requests_with_a_message(cast, bob_client, vera_client):
    url = reverse("api:tokens", args=[cast.ws.pk])
    response = bob_client.post(url, {"name": "", "role": "editor"})
    assert response.status_code == 400 and "Give the token a name" in response.content.decode()
    response = bob_client.post(url, {"name": "x", "role": "owner"})
    assert response.status_code == 400 and "more than your own role" in response.content.decode()
    assert vera_client.post(url, {"name": "x", "role": "viewer"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_revoked_and_unknown_tokens_get_401(cast, alice_client):
    new = token_create(membership=cast.bob_m, name="CMS", role=Role.EDITOR)
    assert Api(new.secret).get("/templates").status_code == 200
    response = alice_client.post(reverse("api:revoke", args=[cast.ws.pk, new.token.pk]))
    assert response.status_code == 302
    response = Api(new.secret).get("/templates")
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert response["WWW-Authenticate"] == "Bearer"
    for bad in ("cw_nope", "nope", new.secret + "x", ""):
        response = Api(bad).get("/templates")
        assert response.status_code == 401, bad
        assert response.json()["detail"]


def test_editor_revokes_only_own_tokens(cast, bob_client):
    mine = token_create(membership=cast.bob_m, name="mine", role=Role.EDITOR).token
    alices = token_create(membership=cast.alice_m, name="alice's", role=Role.EDITOR).token
    assert bob_client.post(reverse("api:revoke", args=[cast.ws.pk, alices.pk])).status_code == 403
    assert bob_client.post(reverse("api:revoke", args=[cast.ws.pk, mine.pk])).status_code == 302
    alices.refresh_from_db()
    mine.refresh_from_db()
    assert alices.revoked_at is None and mine.revoked_at is not None


def test_creator_leaving_kills_the_token_and_demotion_limits_it(cast, ad_template, sent):
    secret = make_token(cast.bob_m)
    api = Api(secret)
    body = {"template": ad_template.slug, "fields": GOOD, "tone": "neutral", "variants": 1}
    assert api.post("/generations", body).status_code == 202
    Membership.objects.filter(pk=cast.bob_m.pk).update(role=Role.VIEWER)
    response = api.post("/generations", body)
    assert response.status_code == 403 and "read-only" in response.json()["detail"]
    assert api.get("/templates").status_code == 200  # reading still works
    Membership.objects.filter(pk=cast.bob_m.pk).update(role=Role.OWNER)
    assert api.post("/generations", body).status_code == 202  # back to the token's own cap
    assert ApiToken.objects.get().role == Role.EDITOR
    Membership.objects.filter(pk=cast.bob_m.pk).delete()
    response = api.get("/templates")
    assert response.status_code == 401 and "no longer a member" in response.json()["detail"]
    assert len(sent) == 2


def test_session_cookie_is_not_an_api_credential(cast, alice_client):
    """The API reads tokens only: a logged-in browser (and so a CSRF attack) gets 401."""
    api = Api(None, client=alice_client)
    assert api.get("/documents").status_code == 401
    assert api.post("/documents", {"title": "x"}).status_code == 401
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(cast.alice)
    assert Api(None, client=csrf_client).post("/documents", {"title": "x"}).status_code == 401
    assert not Document.objects.filter(title="x").exists()


def test_last_used_is_recorded(cast):
    new = token_create(membership=cast.bob_m, name="CMS", role=Role.EDITOR)
    assert new.token.last_used_at is None
    Api(new.secret).get("/documents")
    new.token.refresh_from_db()
    assert new.token.last_used_at is not None


# --- templates -----------------------------------------------------------------------------------

def test_template_search_and_detail(cast, builtin_templates, apis):
    api = apis["editor"]
    page = api.get("/templates", q="google search ad").json()
    assert "google-search-ad" in [t["slug"] for t in page["items"]]
    page = api.get("/templates", category="ads", limit=5, offset=0).json()
    assert page["limit"] == 5 and len(page["items"]) <= 5
    assert all(t["category"] == "ads" for t in page["items"])
    detail = api.get("/templates/google-search-ad").json()
    assert [f["name"] for f in detail["fields"]][:2] == ["product", "benefit"]
    assert "neutral" in detail["tones"] and detail["lengths"] == ["short", "medium", "long"]
    assert api.get("/templates/no-such-template").status_code == 404


def test_another_workspaces_template_is_404(cast, ad_template, apis, sent):
    from copywriter.catalog.services import workspace_template_save

    workspace_template_save(membership=cast.charlie_m, data={
        **ad_template.current.data, "id": "charlies-secret", "title": "Charlie's secret"})
    assert apis["outsider"].get("/templates/charlies-secret").status_code == 200
    assert apis["editor"].get("/templates/charlies-secret").status_code == 404
    assert "Charlie" not in apis["editor"].get("/templates", q="secret").content.decode()
    response = apis["editor"].post("/generations", {"template": "charlies-secret", "fields": GOOD})
    assert response.status_code == 404
    assert not Generation.objects.exists() and not sent


# --- generations ---------------------------------------------------------------------------------

def test_create_and_poll_a_generation(cast, ad_template, apis, sent):
    response = apis["editor"].post("/generations", {"template": ad_template.slug, "fields": GOOD,
                                                    "tone": "witty", "variants": 2,
                                                    "length": "short"})
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["status"] == "queued" and data["variants_requested"] == 2
    assert sent == [data["id"]]
    gen = Generation.objects.get(pk=data["id"])
    assert gen.workspace == cast.ws and gen.created_by == cast.bob
    assert {k: gen.fields[k] for k in GOOD} == GOOD
    Generation.objects.filter(pk=gen.pk).update(status="done")
    Variant.objects.filter(generation=gen, index=0).update(text="Boots that stay dry.",
                                                           finished=True)
    polled = apis["viewer"].get(f"/generations/{gen.pk}").json()
    assert polled["status"] == "done" and polled["variants"][0]["text"] == "Boots that stay dry."
    assert apis["outsider"].get(f"/generations/{gen.pk}").status_code == 404


def test_bad_generation_input_is_400_with_field_errors_and_nothing_enqueued(cast, ad_template,
                                                                             apis, sent):
    api = apis["editor"]
    cases = [
        ({"template": ad_template.slug, "fields": {"benefit": "x"}}, "product"),
        ({"template": ad_template.slug, "fields": {**GOOD, "product": "x" * 5000}}, "product"),
        ({"template": ad_template.slug, "fields": {**GOOD, "nope": "x"}}, "__all__"),
        ({"template": ad_template.slug, "fields": GOOD, "tone": "grumpy"}, "tone"),
        ({"template": ad_template.slug, "fields": GOOD, "variants": 99}, "variants"),
        ({"template": ad_template.slug, "fields": GOOD, "variants": 0}, "variants"),
        ({"template": ad_template.slug, "fields": GOOD, "length": "epic"}, "length"),
        ({"template": ad_template.slug, "fields": {**GOOD, "product": {"a": 1}}}, "product"),
        ({"template": ad_template.slug, "fields": {**GOOD, "product": "a\x00b"}}, "fields.product"),
        ({"fields": GOOD}, "template"),
        ({"template": ad_template.slug, "fields": "not a mapping"}, "fields"),
        ({"template": ad_template.slug, "fields": GOOD, "variants": "many"}, "variants"),
    ]
    for body, field in cases:
        response = api.post("/generations", body)
        assert response.status_code == 400, (body, response.content)
        data = response.json()
        assert data["detail"] and field in data["errors"], (body, data)
    response = api.post("/generations", raw=b"{not json")
    assert response.status_code == 400 and response.json()["detail"]
    assert not Generation.objects.exists() and not sent


def test_oversized_body_is_413_and_nothing_enqueued(cast, ad_template, apis, sent, settings):
    settings.API_MAX_BODY_BYTES = 10_000
    body = {"template": ad_template.slug, "fields": {**GOOD, "benefit": "x" * 20_000}}
    response = apis["editor"].post("/generations", body)
    assert response.status_code == 413 and "limit is 10,000" in response.json()["detail"]
    response = apis["editor"].post("/documents", {"title": "big", "body": "y" * 20_000})
    assert response.status_code == 413
    assert not Generation.objects.exists() and not sent and not Document.objects.exists()


def test_document_over_the_length_cap_is_413(cast, apis, settings):
    settings.DOCUMENT_MAX_CHARS = 100
    response = apis["editor"].post("/documents", {"title": "t", "body": "z" * 101})
    assert response.status_code == 413 and "limit is 100" in response.json()["detail"]
    assert not Document.objects.exists()


def test_rate_limit_and_quota_are_429_with_retry_after(cast, ad_template, apis, sent, settings):
    settings.GENERATION_RATE_PER_MINUTE = 2
    body = {"template": ad_template.slug, "fields": GOOD, "variants": 1}
    assert [apis["editor"].post("/generations", body).status_code for _ in range(2)] == [202, 202]
    response = apis["owner"].post("/generations", body)  # the limit is the workspace's
    assert response.status_code == 429 and "this minute" in response.json()["detail"]
    assert 1 <= int(response["Retry-After"]) <= 60
    assert len(sent) == 2 and Generation.objects.count() == 2
    from django.core.cache import cache
    cache.clear()
    settings.GENERATION_RATE_PER_MINUTE, settings.GENERATION_DAILY_QUOTA = 100, 1
    assert apis["editor"].post("/generations", body).status_code == 202
    response = apis["editor"].post("/generations", body)
    assert response.status_code == 429 and "quota" in response.json()["detail"]
    assert int(response["Retry-After"]) > 0
    assert apis["outsider"].post("/generations", body).status_code == 202  # other workspaces unaffected
    assert len(sent) == 4


def test_per_token_request_rate_is_429(cast, apis, settings):
    settings.API_REQUESTS_PER_MINUTE = 3
    codes = [apis["viewer"].get("/documents").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert apis["editor"].get("/documents").status_code == 200  # per token


def test_viewer_token_cannot_write(cast, ad_template, apis, sent):
    doc = document_create(membership=cast.alice_m, title="Plan", body="alpha")
    viewer = apis["viewer"]
    for path, body in (("/generations", {"template": ad_template.slug, "fields": GOOD}),
                       ("/documents", {"title": "x"}),
                       (f"/documents/{doc.pk}/versions", {"body": "beta", "base_version": 1})):
        response = viewer.post(path, body)
        assert response.status_code == 403, path
        assert "read-only" in response.json()["detail"]
    assert viewer.get(f"/documents/{doc.pk}").status_code == 200
    doc.refresh_from_db()
    assert doc.body == "alpha" and Document.objects.count() == 1 and not sent


def test_retry_runs_a_failed_generation_again_with_its_inputs(cast, ad_template, apis, sent):
    data = apis["editor"].post("/generations", {"template": ad_template.slug, "fields": GOOD,
                                                "variants": 1}).json()
    Generation.objects.filter(pk=data["id"]).update(status="failed", error="The writer failed")
    retried = apis["editor"].post(f"/generations/{data['id']}/retry").json()
    assert retried["retry_of"] == data["id"] and retried["fields"] == data["fields"]
    assert sent == [data["id"], retried["id"]]
    assert apis["outsider"].post(f"/generations/{data['id']}/retry").status_code == 404


# --- documents -----------------------------------------------------------------------------------

def test_documents_list_search_read_create(cast, apis):
    document_create(membership=cast.alice_m, title="Spring launch", body="alpha copy")
    document_create(membership=cast.charlie_m, title="Charlie's alpha", body="alpha")
    api = apis["editor"]
    created = api.post("/documents", {"title": "From the API", "body": "beta"})
    assert created.status_code == 201
    doc = created.json()
    assert doc["head_version"] == 1 and doc["versions"][0]["kind"] == "create"
    listing = api.get("/documents", q="alpha").json()
    assert [d["title"] for d in listing["items"]] == ["Spring launch"]
    assert api.get("/documents").json()["count"] == 2
    assert api.get(f"/documents/{doc['id']}").json()["body"] == "beta"
    assert apis["outsider"].get(f"/documents/{doc['id']}").status_code == 404


def test_versions_and_conflicts(cast, apis):
    api = apis["editor"]
    doc = api.post("/documents", {"title": "Launch", "body": "v1"}).json()
    saved = api.post(f"/documents/{doc['id']}/versions", {"body": "v2", "base_version": 1})
    assert saved.status_code == 201 and saved.json()["version"] == 2
    same = api.post(f"/documents/{doc['id']}/versions", {"body": "v2", "base_version": 2})
    assert same.status_code == 200 and same.json()["changed"] is False
    stale = api.post(f"/documents/{doc['id']}/versions", {"body": "my v2", "base_version": 1})
    assert stale.status_code == 409
    data = stale.json()
    assert data["head_version"] == 2 and data["conflict_version"] == 3
    kept = api.get(f"/documents/{doc['id']}/versions/3").json()
    assert kept["kind"] == "conflict" and kept["body"] == "my v2" and kept["based_on"] == 1
    assert api.get(f"/documents/{doc['id']}").json()["body"] == "v2"  # nothing overwritten
    merged = api.post(f"/documents/{doc['id']}/versions",
                      {"title": "Launch (merged)", "body": "v2 + my v2", "base_version": 2})
    assert merged.status_code == 201
    final = api.get(f"/documents/{doc['id']}").json()
    assert final["title"] == "Launch (merged)" and final["head_version"] == 4
    assert [v["number"] for v in final["versions"]] == [4, 3, 2, 1]


def test_another_workspaces_document_ids_change_nothing(cast, apis):
    doc = document_create(membership=cast.alice_m, title="Secret plan", body="alpha")
    outsider = apis["outsider"]
    assert outsider.get(f"/documents/{doc.pk}").status_code == 404
    assert outsider.get(f"/documents/{doc.pk}/versions/1").status_code == 404
    assert outsider.post(f"/documents/{doc.pk}/versions",
                         {"body": "pwned", "base_version": 1}).status_code == 404
    assert outsider.post(f"/documents/{doc.pk}/originality").status_code == 404
    doc.refresh_from_db()
    assert doc.body == "alpha" and DocumentVersion.objects.filter(document=doc).count() == 1


def test_trashed_document_is_404(cast, apis):
    doc = document_create(membership=cast.alice_m, title="Old", body="x")
    Document.objects.filter(pk=doc.pk).update(deleted_at=doc.created_at)
    assert apis["editor"].get(f"/documents/{doc.pk}").status_code == 404
    assert apis["editor"].post(f"/documents/{doc.pk}/versions",
                               {"body": "y", "base_version": 1}).status_code == 404


# --- originality ---------------------------------------------------------------------------------

def test_originality_check_is_queued_and_polled(cast, apis, monkeypatch):
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)
    doc = document_create(membership=cast.alice_m, title="Plan", body="Some copy to check.")
    response = apis["viewer"].post(f"/documents/{doc.pk}/originality")
    assert response.status_code == 202
    check = response.json()
    assert check["status"] == "queued" and check["document_version"] == 1
    assert apis["editor"].get(f"/originality/{check['id']}").json()["id"] == check["id"]
    assert apis["outsider"].get(f"/originality/{check['id']}").status_code == 404


# --- schema and docs -----------------------------------------------------------------------------

def test_openapi_schema_and_docs_page_need_no_cdn(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/generations" in schema["paths"]
    assert schema["components"]["securitySchemes"]["TokenAuth"]["scheme"] == "bearer"
    response = client.get(reverse("api:docs"))
    html = response.content.decode()
    assert response.status_code == 200 and "POST /api/v1/generations" in html
    # Every script and stylesheet is the project's own: no address outside this server (the
    # page's random CSRF token once held "cdn", so the check reads the addresses, not the page).
    addresses = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert any(url.endswith(".js") for url in addresses), addresses  # the scripts are read
    outside = [url for url in addresses if re.match(r"(?:[a-z]+:)?//", url, re.I)]
    assert not outside and "<script>" not in html
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_unknown_api_path_and_wrong_method_are_json(apis):
    response = apis["editor"].get("/nothing-here")
    assert response.status_code == 404 and response.json()["detail"]
    response = apis["editor"].client.delete("/api/v1/documents",
                                            HTTP_AUTHORIZATION=f"Bearer {apis['editor'].secret}")
    assert response.status_code == 405 and "GET" in response["Allow"] and response.json()["detail"]


# --- SEO -----------------------------------------------------------------------------------------

def test_seo_analyse_and_suggest(cast, apis):
    from copywriter.seo.models import KeywordList

    text = "# Waterproof hiking boots\n\nOur waterproof hiking boots keep feet dry on long trails."
    report = apis["viewer"].post("/seo/analyse", {"text": text, "keywords": "hiking boots, trail"})
    assert report.status_code == 200, report.content
    assert {k["keyword"] for k in report.json()["keywords"]} == {"hiking boots", "trail"}
    mine = KeywordList.objects.create(workspace=cast.ws, name="Boots", keywords=["waterproof"])
    theirs = KeywordList.objects.create(workspace=cast.other, name="Secret", keywords=["secret"])
    by_list = apis["editor"].post("/seo/analyse", {"text": text, "keyword_list": mine.pk}).json()
    assert [k["keyword"] for k in by_list["keywords"]] == ["waterproof"]
    response = apis["editor"].post("/seo/analyse", {"text": text, "keyword_list": theirs.pk})
    assert response.status_code == 404 and "secret" not in response.content.decode()
    bad = apis["editor"].post("/seo/analyse", {"text": text, "keywords": ["x" * 100]})
    assert bad.status_code == 400 and "keywords" in bad.json()["errors"]
    bad = apis["editor"].post("/seo/analyse", {"text": text, "keywords": "a", "kind": "poem"})
    assert bad.status_code == 400 and "kind" in bad.json()["errors"]
    suggested = apis["viewer"].post("/seo/suggest", {"text": text * 3, "brief": "dry feet", "n": 5})
    assert suggested.status_code == 200 and suggested.json()["method"] == "yake"
    assert 1 <= len(suggested.json()["suggestions"]) <= 5

