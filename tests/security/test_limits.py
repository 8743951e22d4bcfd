"""Limits through the web forms: each answered with a clear message (400, 413, 429), nothing
stored and nothing sent to the queue."""

from __future__ import annotations

import pytest
from django.urls import reverse

from copywriter.documents.models import Document
from copywriter.generation.models import Generation

GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns",
        "tone": "neutral", "variants": "1", "length": "short"}


@pytest.fixture
def generate_url(cast, ad_template):
    return reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk])


@pytest.mark.parametrize("change,message", [
    ({"product": ""}, "Product or service is required"),
    ({"product": "x" * 5000}, "the limit is"),
    ({"variants": "99"}, "99"),
    ({"variants": "0"}, "0"),
    ({"variants": "many"}, "whole number"),
    ({"tone": "grumpy"}, "grumpy"),
    ({"length": "epic"}, "epic"),
])
def test_bad_generate_form_is_400_with_the_reason_and_the_input_kept(bob_client, generate_url,
                                                                     sent, change, message):
    data = {**GOOD, **change}
    response = bob_client.post(generate_url, data)
    html = response.content.decode()
    assert response.status_code == 400
    assert message in html, html[:2000]
    if change.get("product"):
        assert change["product"][:200] in html  # what was typed is still in the form
    assert not Generation.objects.exists() and not sent


def test_oversized_form_body_is_413_before_anything_reads_it(cast, bob_client, generate_url,
                                                             sent, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50_000
    response = bob_client.post(generate_url, {**GOOD, "benefit": "x" * 60_000})
    assert response.status_code == 413 and "the limit is 50,000" in response.content.decode()
    response = bob_client.post(reverse("documents:create", args=[cast.ws.pk]),
                               {"title": "big", "body": "y" * 60_000})
    assert response.status_code == 413
    assert not Generation.objects.exists() and not sent and not Document.objects.exists()


def test_document_over_the_length_cap_is_413_with_the_limit(cast, bob_client, settings):
    settings.DOCUMENT_MAX_CHARS = 1000
    response = bob_client.post(reverse("documents:create", args=[cast.ws.pk]),
                               {"title": "t", "body": "z" * 1001})
    assert response.status_code == 413 and "the limit is 1,000" in response.content.decode()
    assert not Document.objects.exists()


def test_generation_rate_and_quota_are_429_with_a_message(cast, bob_client, alice_client,
                                                          generate_url, sent, settings):
    settings.GENERATION_RATE_PER_MINUTE = 2
    assert [bob_client.post(generate_url, GOOD).status_code for _ in range(2)] == [302, 302]
    response = alice_client.post(generate_url, GOOD)  # the limit is the workspace's
    assert response.status_code == 429
    assert "Too many generations this minute" in response.content.decode()
    assert len(sent) == Generation.objects.count() == 2
    from django.core.cache import cache
    cache.clear()
    settings.GENERATION_RATE_PER_MINUTE, settings.GENERATION_DAILY_QUOTA = 100, 1
    assert bob_client.post(generate_url, GOOD).status_code == 302
    response = bob_client.post(generate_url, GOOD)
    assert response.status_code == 429 and "quota resets at midnight" in response.content.decode()
    assert len(sent) == Generation.objects.count() == 3


def test_viewer_generate_is_403_and_nothing_enqueued(vera_client, generate_url, sent):
    assert vera_client.post(generate_url, GOOD).status_code == 403
    assert not Generation.objects.exists() and not sent


def test_login_throttling_is_429_with_a_message(cast, client, settings):
    settings.LOGIN_ATTEMPTS_PER_15_MIN = 3
    url = reverse("accounts:login")
    codes = [client.post(url, {"username": "alice@example.com", "password": "wrong"}).status_code
             for _ in range(4)]
    assert codes[-1] == 429 and 429 not in codes[:3], codes
    from tests.support.cast import PASSWORD
    response = client.post(url, {"username": "alice@example.com", "password": PASSWORD})
    assert response.status_code == 429  # even the right password waits: no guessing through it
