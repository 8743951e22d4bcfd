"""HTTPS deliveries for real: a TLS receiver on this host with a certificate made for the test.
The sender connects to the address it checked (SSRF) and verifies the certificate against the
URL's host name (SNI), so a certificate for another name is refused, not retried."""

from __future__ import annotations

import ssl
import subprocess

import pytest

from copywriter.webhooks import net, services, tasks
from copywriter.webhooks.models import Event, Message, MessageStatus
from tests.support.webhook_receiver import WebhookReceiver


def _certificate(folder, name: str) -> tuple[str, str]:
    cert, key = folder / f"{name}.pem", folder / f"{name}.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return str(cert), str(key)


@pytest.fixture
def trusting(monkeypatch):
    """The sender trusts the test's certificate as it trusts the system's CAs."""
    def trust(cert: str) -> None:
        context = ssl.create_default_context(cafile=cert)
        monkeypatch.setattr(net.ssl, "create_default_context", lambda: context)
    return trust


@pytest.mark.parametrize("name, delivered", [("localhost", True), ("cms.example.com", False)])
def test_https_delivery_checks_the_certificate_against_the_urls_host(
        cast, loopback_allowed, outbox, trusting, tmp_path, name, delivered):
    cert, key = _certificate(tmp_path, name)
    trusting(cert)
    with WebhookReceiver(tls=(cert, key)) as cms:
        hook, cms.secret = services.webhook_create(membership=cast.alice_m, url=cms.url,
                                                   events=Event.values)
        message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
        result = tasks.deliver(message.pk)
    message.refresh_from_db()
    attempt = message.deliveries.get()
    if delivered:
        assert result == "delivered" and message.status == MessageStatus.DELIVERED
        assert len(cms.requests) == 1 and cms.requests[0].verified
        assert cms.requests[0].headers["Host"] == f"localhost:{cms.port}"
        assert attempt.status_code == 200 and attempt.address == "127.0.0.1"
    else:  # a certificate for another name: refused at once, never retried
        assert result == "failed" and message.status == MessageStatus.FAILED
        assert cms.requests == [] and outbox == [(message.pk, 0)]
        assert "TLS failed with localhost" in attempt.error
        assert not attempt.will_retry
    assert Message.objects.filter(webhook=hook).count() == 1
