"""schemathesis over the API's own OpenAPI schema, through the app in this process (no server).

Every operation gets generated requests (valid and invalid): none may answer 5xx. Each request
is also sent with the path's ids swapped for real objects of Alice's workspace, as her editor
(no 5xx) and as an outsider from another workspace (never 2xx, never 403: 404 or a 4xx that
says nothing about her objects).
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, settings

from copywriter.api.api import api
from copywriter.api.services import token_create
from copywriter.documents.services import document_create
from copywriter.generation.models import Generation, Variant
from copywriter.originality.models import OriginalityCheck
from tests.support.report import report_at_end

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
SCOPED_PARAMS = {"document_id", "generation_id", "check_id", "slug", "number"}
CALLS: Counter = Counter()


def _covered() -> str | None:
    if not CALLS:
        return None
    return (f"schemathesis: {len(CALLS)} API operations, {sum(CALLS.values())} requests "
            "(generated, with real ids, as an outsider), no 5xx, no outsider 2xx")


report_at_end(_covered)


class World:
    def __init__(self, cast, ad_template):
        from copywriter.catalog.services import workspace_template_save
        from copywriter.seo.models import KeywordList

        self.doc = document_create(membership=cast.alice_m, title="Secret plan", body="alpha")
        self.template = workspace_template_save(membership=cast.alice_m, data={
            **ad_template.current.data, "id": "alices-ad", "title": "Alice's ad"})
        self.gen = Generation.objects.create(
            workspace=cast.ws, created_by=cast.alice, template=self.template,
            template_version=self.template.current,
            fields={"product": "Boots", "benefit": "Dry"}, prompt="p", tone="neutral",
            variants=1, status="done")
        Variant.objects.create(generation=self.gen, index=0, text="Secret copy", finished=True)
        self.check = OriginalityCheck.objects.create(workspace=cast.ws, document=self.doc,
                                                     document_version=1)
        self.keywords = KeywordList.objects.create(workspace=cast.ws, name="Secret list",
                                                   keywords=["boots"])
        self.editor = token_create(membership=cast.bob_m, name="fuzz", role="editor").secret
        self.outsider = token_create(membership=cast.charlie_m, name="fuzz", role="owner").secret

    def real_ids(self) -> dict[str, Any]:
        return {"document_id": self.doc.pk, "generation_id": self.gen.pk,
                "check_id": self.check.pk, "slug": self.template.slug, "number": 1}


@pytest.fixture
def world(cast, ad_template, monkeypatch, settings):
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    monkeypatch.setattr("copywriter.originality.services._enqueue", lambda *a, **k: None)
    settings.GENERATION_RATE_PER_MINUTE = settings.GENERATION_DAILY_QUOTA = 100_000
    settings.API_REQUESTS_PER_MINUTE = 100_000
    return World(cast, ad_template)


def send(case, secret: str, path_params: dict[str, Any] | None = None,
         body_override: dict[str, Any] | None = None):
    params = {**case.path_parameters, **(path_params or {})}
    path = case.path
    for name, value in params.items():
        path = path.replace("{" + name + "}", str(value))
    query = {k: v for k, v in (case.query or {}).items()}
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {secret}"}
    CALLS[case.operation.label] += 1
    if case.method.upper() == "GET":
        return client.get(path, query, **headers)
    body = case.body
    if isinstance(body, dict) and body_override:
        body = {**body, **{k: v for k, v in body_override.items() if k in body}}
    try:
        raw = json.dumps(body, allow_nan=True) if not isinstance(body, str | bytes) else body
    except (TypeError, ValueError):
        raw = "{}"
    if raw is None or case.body.__class__.__name__ == "NotSet":
        raw = ""
    url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return client.generic(case.method.upper(), url, raw, content_type="application/json",
                          **headers)


def _check(response, what: str) -> None:
    assert response.status_code < 500, f"{what}: {response.status_code} {response.content[:300]!r}"
    assert response["Content-Type"].startswith("application/json"), what
    if response.status_code >= 400:
        assert response.json()["detail"], what


@schema.parametrize()
@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_has_no_server_errors_and_never_serves_an_outsider(case, world):
    label = f"{case.method.upper()} {case.path}"
    _check(send(case, world.editor), f"{label} generated")
    real = world.real_ids()
    swap = {k: v for k, v in real.items() if k in case.path_parameters}
    body_swap = {"keyword_list": world.keywords.pk, "template": world.template.slug}
    _check(send(case, world.editor, swap, body_swap), f"{label} with real ids")
    outsider = send(case, world.outsider, swap, body_swap)
    _check(outsider, f"{label} outsider")
    text = outsider.content.decode()
    if swap or (isinstance(case.body, dict) and set(case.body) & set(body_swap)):
        assert not 200 <= outsider.status_code < 300, f"{label}: outsider got {outsider.status_code}"
        assert outsider.status_code != 403, f"{label}: 403 tells the outsider it exists"
    for secret in ("Secret plan", "Secret copy", "Secret list", "Alice's ad", "alpha"):
        assert secret not in text, f"{label}: outsider saw {secret!r}"
