"""CSRF on every POST the web app accepts, token-only API, and the security headers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from copywriter.api.models import ApiToken
from copywriter.documents.models import Document, DocumentVersion
from copywriter.generation.models import Generation
from copywriter.webhooks.models import Message, Webhook
from copywriter.workspaces.models import Membership, Workspace
from tests.support.cast import client_for
from tests.support.report import report
from tests.support.url_matrix import LOGIN_ONLY, PUBLIC, WORKSPACE_URLS, all_url_names, url_for

ROOT = Path(__file__).resolve().parents[2]
DATA = {"title": "x", "body": "y", "base_number": 1, "role": "viewer", "email": "a@b.example",
        "days": 1, "name": "n", "rating": 1, "password": "p", "username": "alice@example.com",
        "yaml": "id: x", "text": "t"}


def _url(name: str, cast, o) -> str:
    if name in WORKSPACE_URLS:
        return url_for(name, cast.ws.pk, o, cast)
    args = {"accounts:password_reset_confirm": ["MQ", "set-password"],
            "accounts:signup_confirm": ["no-such-link"],
            "workspaces:accept": [o["inv"].token]}.get(name, [])
    return reverse(name, args=args)


def _state(cast) -> tuple:
    return (Document.objects.count(), DocumentVersion.objects.count(), Generation.objects.count(),
            Membership.objects.count(), Workspace.objects.count(), ApiToken.objects.count(),
            sorted(Membership.objects.values_list("role", flat=True)),
            Document.objects.filter(deleted_at__isnull=True).count(),
            sorted(Webhook.objects.values_list("url", "secret", "active")),
            Message.objects.count())


def _csrf_client(user, cast) -> tuple[Client, str]:
    client = client_for(user, csrf=True)
    client.get(reverse("documents:list", args=[cast.ws.pk]))
    return client, client.cookies["csrftoken"].value


def test_every_web_post_without_a_csrf_token_is_refused_and_changes_nothing(cast, objects,
                                                                            monkeypatch):
    """Every URL the resolver knows, except the token-only JSON API, as the workspace owner."""
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    # URLs missing from the matrix fail test_every_url_is_classified; here we need their args.
    names = sorted(n for n in all_url_names() if not n.startswith("v1:")
                   and n in PUBLIC | LOGIN_ONLY | set(WORKSPACE_URLS))
    before = _state(cast)
    client, _ = _csrf_client(cast.alice, cast)
    for name in names:
        response = client.post(_url(name, cast, objects), DATA)
        assert response.status_code == 403 and b"CSRF verification failed" in response.content, (
            f"{name}: {response.status_code} without a CSRF token")
        response = client.post(_url(name, cast, objects), DATA, HTTP_HX_REQUEST="true",
                               HTTP_X_CSRFTOKEN="forged-token-0123456789abcdef0123")
        assert response.status_code == 403, f"{name}: a forged htmx token got {response.status_code}"
    assert _state(cast) == before
    report(f"CSRF: {len(names)} web URL patterns refuse POSTs without (or with a forged) token")


@pytest.mark.parametrize("name", sorted(n for n, (m, _) in WORKSPACE_URLS.items() if m == "POST"))
def test_the_same_post_with_the_token_gets_past_csrf(name, cast, objects, monkeypatch):
    """The control: with the form's token (or htmx's header) the same request is not refused
    for CSRF, so the refusals above are CSRF's doing."""
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    client, token = _csrf_client(cast.alice, cast)
    url = _url(name, cast, objects)
    response = client.post(url, {**DATA, "csrfmiddlewaretoken": token})
    assert b"CSRF verification failed" not in response.content, name
    response = client.post(url, DATA, HTTP_X_CSRFTOKEN=token, HTTP_HX_REQUEST="true")
    assert b"CSRF verification failed" not in response.content, name


def test_api_is_token_only_and_so_needs_no_csrf(cast):
    """A browser session (what a CSRF attack rides on) is not an API credential at all."""
    client, token = _csrf_client(cast.alice, cast)
    for path in ("/api/v1/documents", "/api/v1/generations"):
        response = client.post(path, json.dumps({"title": "x"}), content_type="application/json",
                               HTTP_X_CSRFTOKEN=token)
        assert response.status_code == 401, path
    assert not Document.objects.exists()


HEADERS_SCRIPT = """
import django, json
django.setup()
from django.test import Client
c = Client(HTTP_HOST="copy.example.com")
out = {}
for path in ("/accounts/login/", "/api/v1/openapi.json", "/api/v1/docs/", "/api/v1/templates"):
    r = c.get(path, secure=True)
    out[path] = {"status": r.status_code, **{k: v for k, v in r.headers.items()}}
r = c.get("/accounts/login/", secure=False)
out["http"] = {"status": r.status_code, "Location": r.headers.get("Location", "")}
print(json.dumps(out))
"""


def test_security_headers_in_production_settings():
    env = {**os.environ, "DEBUG": "0", "COPYWRITER_DEV": "0", "COPYWRITER_TESTING": "0",
           "SECRET_KEY": "x" * 20 + "a-real-secret-from-the-environment-0123456789",
           "ALLOWED_HOSTS": "copy.example.com", "DJANGO_SETTINGS_MODULE": "copywriter.settings"}
    env.pop("PYTEST_CURRENT_TEST", None)
    result = subprocess.run([sys.executable, "-c", HEADERS_SCRIPT], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    pages = json.loads(result.stdout.strip().splitlines()[-1])
    assert pages["http"]["status"] == 301 and pages["http"]["Location"].startswith("https://")
    for path in ("/accounts/login/", "/api/v1/openapi.json", "/api/v1/docs/", "/api/v1/templates"):
        h = pages[path]
        assert h["status"] in (200, 401), (path, h["status"])
        assert "max-age=31536000" in h["Strict-Transport-Security"], path
        assert "includeSubDomains" in h["Strict-Transport-Security"], path
        assert h["X-Content-Type-Options"] == "nosniff", path
        assert h["Referrer-Policy"] == "same-origin", path
        assert h["X-Frame-Options"] == "DENY", path
        assert h["Cross-Origin-Opener-Policy"] == "same-origin", path
        csp = h["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp, path
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, path
    report(f"security headers: HSTS, nosniff, Referrer-Policy, X-Frame-Options, COOP, CSP on "
           f"{len(pages) - 1} pages and API answers in production settings")


def test_security_headers_on_app_pages_and_api_errors(cast, alice_client):
    for response in (alice_client.get(reverse("documents:list", args=[cast.ws.pk])),
                     Client().get("/api/v1/documents"),
                     Client().get("/api/v1/openapi.json")):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["X-Frame-Options"] == "DENY"
        assert response["Referrer-Policy"] == "same-origin"
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
