"""Webhooks end to end against a real local HTTP receiver that checks signatures: events from
the workflow's signal, a real generation and bulk runs; retries with backoff; SSRF refusals at
save and at delivery; the owners' pages."""

from __future__ import annotations

import json
import socket

import pytest
from django.urls import reverse
from django.utils import timezone

from copywriter.audit.models import AuditEvent
from copywriter.bulk import services as bulk_services
from copywriter.bulk.models import RunStatus
from copywriter.bulk.window import advance
from copywriter.documents.models import Document
from copywriter.documents.services import document_create
from copywriter.generation import runner
from copywriter.webhooks import net, services, tasks
from copywriter.webhooks.models import Delivery, Event, Message, MessageStatus, Webhook
from copywriter.workflow.signals import document_state_changed
from tests.support.cast import client_for
from tests.support.engines import run_worker
from tests.support.webhook_receiver import verify


def due(message_id: int) -> None:
    """The backoff's wait has passed."""
    Message.objects.filter(pk=message_id).update(next_attempt_at=timezone.now())


def deliver_all(outbox) -> list[str]:
    """Run the task for every published delivery, as a worker would (retries included)."""
    results = []
    while outbox:
        message_id, _countdown = outbox.pop(0)
        due(message_id)
        results.append(tasks.deliver(message_id))
    return results


# --- signing and delivery ----------------------------------------------------------------------

def test_send_test_is_signed_and_the_receiver_verifies_it(cast, hook, receiver, outbox):
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    assert outbox == [(message.pk, 0)]
    assert tasks.deliver(message.pk) == "delivered"
    [got] = receiver.requests
    assert got.verified and got.path == "/hooks/copywriter"
    assert got.headers["X-Copywriter-Event"] == "ping"
    assert got.headers["X-Copywriter-Delivery"] == str(message.uuid)
    assert got.headers["X-Copywriter-Signature"].startswith("sha256=")
    payload = got.json
    assert set(payload) == {"id", "event", "created_at", "workspace", "data"}
    assert payload["id"] == str(message.uuid) and payload["event"] == "ping"
    assert payload["workspace"] == {"id": cast.ws.pk, "name": "Acme marketing"}
    [delivery] = Delivery.objects.filter(message=message)
    assert delivery.status_code == 200 and delivery.ok and delivery.address == "127.0.0.1"
    assert '"verified": true' in delivery.response_excerpt and not delivery.will_retry
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.attempts == 1
    # A second delivery of the same task (a redelivered job) sends nothing again.
    assert tasks.deliver(message.pk) == "skipped" and len(receiver.requests) == 1


def test_the_signature_covers_timestamp_and_body(cast, hook, receiver, outbox):
    services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    deliver_all(outbox)
    got = receiver.requests[0]
    ts, sig = got.headers["X-Copywriter-Timestamp"], got.headers["X-Copywriter-Signature"]
    assert verify(secret=receiver.secret, timestamp=ts, body=got.body, signature=sig)
    assert not verify(secret=receiver.secret, timestamp=ts, body=got.body + b" ", signature=sig)
    assert not verify(secret=receiver.secret, timestamp=str(int(ts) + 1), body=got.body,
                      signature=sig)
    assert not verify(secret="whsec_other", timestamp=ts, body=got.body, signature=sig)
    # An old message replayed is refused by the receiver's clock check.
    assert not verify(secret=receiver.secret, timestamp=ts, body=got.body, signature=sig,
                      now=int(ts) + 301)


def test_a_rotated_secret_signs_from_then_on(cast, hook, receiver, outbox):
    old = receiver.secret
    _hook, new = services.webhook_rotate_secret(membership=cast.alice_m, webhook_id=hook.pk)
    assert new != old and new.startswith("whsec_")
    services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    assert deliver_all(outbox) == ["failed"]  # the receiver still has the old secret: 401
    assert not receiver.requests[0].verified
    receiver.secret = new
    services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    assert deliver_all(outbox) == ["delivered"] and receiver.requests[1].verified
    # The activity trail has the webhook's making and the rotation, by the owner, named.
    events = AuditEvent.objects.filter(workspace=hook.workspace, target_id=str(hook.pk))
    assert {e.action for e in events} >= {"webhook.created", "webhook.secret_rotated"}
    assert {e.actor_id for e in events} == {cast.alice_m.user_id}


def test_retries_with_backoff_on_5xx_then_succeeds(cast, hook, receiver, outbox, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    receiver.answers.extend([500, 503, 429])
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    outbox.clear()
    waits = []
    for _ in range(4):
        due(message.pk)
        tasks.deliver(message.pk)
        if outbox:
            waits.append(outbox.pop()[1])
            # Not due yet: a duplicate delivery of the task does nothing.
            assert tasks.deliver(message.pk) == "skipped"
    assert waits == [30, 60, 120]
    assert [r.status for r in receiver.requests] == [500, 503, 429, 200]
    assert all(r.verified for r in receiver.requests)
    assert len({r.headers["X-Copywriter-Delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1  # the same bytes every time
    tries = list(Delivery.objects.filter(message=message).order_by("number"))
    assert [(d.number, d.status_code, d.will_retry) for d in tries] == [
        (1, 500, True), (2, 503, True), (3, 429, True), (4, 200, False)]
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED and message.attempts == 4


@pytest.mark.parametrize("status", [400, 401, 404, 410])
def test_no_retry_on_a_client_error(cast, hook, receiver, outbox, status):
    receiver.answers.append(status)
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    assert deliver_all(outbox) == ["failed"]
    assert len(receiver.requests) == 1
    [d] = Delivery.objects.filter(message=message)
    assert d.status_code == status and not d.will_retry


def test_gives_up_after_the_last_attempt(cast, hook, receiver, outbox, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.answers.extend([500] * 5)
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    assert deliver_all(outbox) == ["pending", "pending", "failed"]
    assert len(receiver.requests) == 3
    message.refresh_from_db()
    assert message.status == MessageStatus.FAILED and message.finished_at is not None


def test_a_redirect_is_not_followed(cast, hook, receiver, outbox):
    receiver.answers.append(302)  # to the cloud metadata address
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    assert deliver_all(outbox) == ["failed"]
    assert len(receiver.requests) == 1
    [d] = Delivery.objects.filter(message=message)
    assert d.status_code == 302 and "Redirects are not followed" in d.error


def test_a_timeout_is_retried(cast, hook, receiver, outbox, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    outbox.clear()
    assert tasks.deliver(message.pk) == "pending" and len(outbox) == 1
    [d] = Delivery.objects.filter(message=message)
    assert d.status_code is None and "did not answer within the time limit" in d.error
    assert d.will_retry and d.duration_ms >= 250


def test_a_closed_port_is_retried(cast, loopback_allowed, outbox):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    made, _secret = services.webhook_create(membership=cast.alice_m,
                                            url=f"http://127.0.0.1:{port}/h", events=Event.values)
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=made.pk)
    outbox.clear()
    assert tasks.deliver(message.pk) == "pending"
    [d] = Delivery.objects.filter(message=message)
    assert "could not be reached" in d.error and d.will_retry


# --- SSRF --------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://10.0.0.8/hook", "https://169.254.169.254/latest/meta-data/",
    "https://[::1]/hook", "https://[::ffff:127.0.0.1]/hook", "https://localhost/hook",
])
def test_internal_targets_are_refused_at_save(cast, url):
    with pytest.raises(services.WebhookError) as exc:
        services.webhook_create(membership=cast.alice_m, url=url, events=[Event.GENERATION_DONE])
    assert "address" in exc.value.field_errors["url"]
    assert not Webhook.objects.exists()


def test_the_setting_allows_an_internal_cms(cast, loopback_allowed):
    for url in ("http://127.0.0.1:8080/hook", "http://localhost:8080/hook",
                "https://[::1]:8443/hook"):
        made, _ = services.webhook_create(membership=cast.alice_m, url=url,
                                          events=[Event.GENERATION_DONE])
        assert made.url == url
    with pytest.raises(services.WebhookError, match="169.254.169.254 is a link-local"):
        services.webhook_create(membership=cast.alice_m, url="https://169.254.169.254/",
                                events=[Event.GENERATION_DONE])


def test_targets_are_checked_again_at_delivery(cast, hook, receiver, outbox, settings):
    """Allowed when saved, refused when sent (the setting changed): nothing leaves, no retry."""
    settings.WEBHOOK_ALLOWED_NETWORKS = []
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    assert deliver_all(outbox) == ["failed"]
    assert receiver.requests == []
    [d] = Delivery.objects.filter(message=message)
    assert "127.0.0.1 is a loopback address" in d.error and not d.will_retry


def test_dns_rebinding_cannot_switch_the_target(cast, outbox, monkeypatch, receiver, settings):
    """The name resolved to a public address when saved and to loopback when sent: refused,
    because the address connected to is the one checked at that moment."""
    answers = iter(["93.184.215.14", "127.0.0.1"])

    def rebinding(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (next(answers), port))]

    monkeypatch.setattr(net.socket, "getaddrinfo", rebinding)
    made, secret = services.webhook_create(membership=cast.alice_m,
                                           url=f"https://cms.example.com:{receiver.port}/h",
                                           events=Event.values)
    message = services.webhook_send_test(membership=cast.alice_m, webhook_id=made.pk)
    assert deliver_all(outbox) == ["failed"]
    assert receiver.requests == []
    assert "cms.example.com resolves to 127.0.0.1, a loopback address" in (
        Delivery.objects.get(message=message).error)


def test_the_connection_goes_to_the_checked_address_with_the_url_host(cast, loopback_allowed,
                                                                       receiver, outbox,
                                                                       monkeypatch):
    real = socket.getaddrinfo

    def internal_dns(host, port, *args, **kwargs):
        if host == "cms.internal.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(net.socket, "getaddrinfo", internal_dns)
    made, receiver.secret = services.webhook_create(
        membership=cast.alice_m, url=f"http://cms.internal.test:{receiver.port}/in?src=cw",
        events=Event.values)
    services.webhook_send_test(membership=cast.alice_m, webhook_id=made.pk)
    assert deliver_all(outbox) == ["delivered"]
    [got] = receiver.requests
    assert got.headers["Host"] == f"cms.internal.test:{receiver.port}"
    assert got.path == "/in?src=cw" and got.verified


# --- events ------------------------------------------------------------------------------------

def test_approved_and_published_documents_fire_their_events(cast, hook, receiver, outbox):
    doc = document_create(membership=cast.alice_m, title="Spring launch", body="Boots for rain.")
    version = doc.versions.get(number=1)
    for old, new in (("draft", "in_review"), ("in_review", "approved"),
                     ("approved", "published")):
        document_state_changed.send(sender=Document, document=doc, version=version, old=old,
                                    new=new, actor=cast.bob, comment="Ship it")
    assert deliver_all(outbox) == ["delivered", "delivered"]
    events = [r.headers["X-Copywriter-Event"] for r in receiver.requests]
    assert events == ["document.approved", "document.published"]
    data = receiver.requests[1].json["data"]
    assert data["document"]["id"] == doc.pk and data["document"]["title"] == "Spring launch"
    assert data["document"]["url"].endswith(f"/w/{cast.ws.pk}/documents/{doc.pk}/")
    assert data["version"] == {"number": 1, "title": "Spring launch", "body": "Boots for rain."}
    assert (data["from"], data["to"], data["comment"]) == ("approved", "published", "Ship it")
    assert data["actor"]["id"] == cast.bob.pk
    assert all(r.verified for r in receiver.requests)


def test_only_active_subscribed_webhooks_of_the_workspace_get_an_event(cast, loopback_allowed,
                                                                      receiver, outbox):
    url = receiver.url
    published, _ = services.webhook_create(membership=cast.alice_m, url=url,
                                           events=[Event.DOCUMENT_PUBLISHED])
    services.webhook_create(membership=cast.alice_m, url=url, events=[Event.GENERATION_DONE])
    services.webhook_create(membership=cast.alice_m, url=url,
                            events=[Event.DOCUMENT_PUBLISHED], active=False)
    restored, _ = services.webhook_create(membership=cast.alice_m, url=url,
                                          events=[Event.DOCUMENT_PUBLISHED])
    Webhook.objects.filter(pk=restored.pk).update(secret="")  # as restored from a backup
    services.webhook_create(membership=cast.charlie_m, url=url,
                            events=[Event.DOCUMENT_PUBLISHED])
    doc = document_create(membership=cast.alice_m, title="T", body="b")
    document_state_changed.send(sender=Document, document=doc, version=None, old="approved",
                                new="published", actor=None, comment="")
    assert [Message.objects.get(pk=i).webhook_id for i, _ in outbox] == [published.pk]
    with pytest.raises(services.WebhookError, match="rotate its secret"):
        services.webhook_send_test(membership=cast.alice_m, webhook_id=restored.pk)


def test_a_real_generation_fires_generation_done(cast, hook, receiver, outbox, queued_job,
                                                 tiny_engine,
                                                 django_capture_on_commit_callbacks):
    gen = queued_job(cast.alice_m)
    with django_capture_on_commit_callbacks(execute=True):
        run_worker(engine=tiny_engine, first_id=gen.pk)
    gen.refresh_from_db()
    assert gen.status == "done"
    assert deliver_all(outbox) == ["delivered"]
    [got] = receiver.requests
    assert got.headers["X-Copywriter-Event"] == "generation.done" and got.verified
    data = got.json["data"]["generation"]
    assert data["id"] == gen.pk and data["status"] == "done"
    assert data["template"] == gen.template.slug
    assert [v["text"] for v in data["variants"]] == [v.text for v in gen.results.order_by("index")]


def test_a_failed_generation_fires_generation_done_with_its_error(cast, hook, receiver, outbox,
                                                                  queued_job,
                                                                  django_capture_on_commit_callbacks):
    gen = queued_job(cast.alice_m)
    with django_capture_on_commit_callbacks(execute=True):
        runner.fail(gen.pk, "The writer ran out of memory.", permanent=False)
    assert deliver_all(outbox) == ["delivered"]
    data = receiver.requests[0].json["data"]["generation"]
    assert data["status"] == "failed" and data["error"] == "The writer ran out of memory."


def test_a_bulk_rows_generation_is_told_by_the_run_not_by_itself(
        cast, hook, outbox, queued_job, django_capture_on_commit_callbacks):
    gen = queued_job(cast.alice_m, bulk=True)
    with django_capture_on_commit_callbacks(execute=True):
        runner.fail(gen.pk, "x", permanent=True)
    assert outbox == []


def test_a_finished_bulk_run_fires_bulk_run_done(cast, hook, receiver, outbox, ad_template,
                                                 django_capture_on_commit_callbacks):
    run = bulk_services.bulk_run_create(membership=cast.alice_m, template=ad_template,
                                        tone="neutral", file_name="ads.csv",
                                        data=b"product,benefit\nBoots,Dry feet\nHat,Warm\n")
    run.rows.update(status="done", result_text="Copy")
    run.status = RunStatus.RUNNING
    run.save()
    with django_capture_on_commit_callbacks(execute=True):
        advance(run_id=run.pk)
        advance(run_id=run.pk)  # a second look at a finished run tells no one again
    assert deliver_all(outbox) == ["delivered"]
    data = receiver.requests[0].json["data"]["bulk_run"]
    assert data["id"] == run.pk and data["status"] == "done"
    assert (data["total"], data["done"], data["file_name"]) == (2, 2, "ads.csv")


def test_a_cancelled_bulk_run_fires_bulk_run_done(cast, hook, receiver, outbox, ad_template,
                                                  django_capture_on_commit_callbacks):
    run = bulk_services.bulk_run_create(membership=cast.alice_m, template=ad_template,
                                        tone="neutral", file_name="ads.csv",
                                        data=b"product,benefit\nBoots,Dry feet\n")
    run.status = RunStatus.RUNNING
    run.save()
    with django_capture_on_commit_callbacks(execute=True):
        bulk_services.bulk_run_cancel(membership=cast.alice_m, run=run)
    assert deliver_all(outbox) == ["delivered"]
    assert receiver.requests[0].json["data"]["bulk_run"]["status"] == "cancelled"


def test_the_log_keeps_the_latest_messages(cast, hook, outbox, monkeypatch):
    monkeypatch.setattr(services, "LOG_MESSAGES", 3)
    for _ in range(5):
        services.webhook_send_test(membership=cast.alice_m, webhook_id=hook.pk)
    kept = list(Message.objects.filter(webhook=hook).order_by("pk").values_list("pk", flat=True))
    assert kept == [i for i, _ in outbox][-3:]


# --- owners' pages -----------------------------------------------------------------------------

def test_pages_are_for_owners_only(cast, hook):
    ws = cast.ws.pk
    for name, args in (("webhooks:list", [ws]), ("webhooks:detail", [ws, hook.pk])):
        url = reverse(name, args=args)
        assert client_for(cast.alice).get(url).status_code == 200
        assert client_for(cast.bob).get(url).status_code == 403
        assert client_for(cast.vera).get(url).status_code == 403
        assert client_for(cast.charlie).get(url).status_code == 404


def test_an_owner_adds_a_webhook_and_sees_its_secret_once(cast, loopback_allowed, receiver):
    client = client_for(cast.alice)
    url = reverse("webhooks:list", args=[cast.ws.pk])
    response = client.post(url, {"url": receiver.url, "events": ["document.published",
                                                                  "bulk_run.done"],
                                 "active": "on"})
    assert response.status_code == 200
    hook = Webhook.objects.get(workspace=cast.ws)
    assert hook.events == ["document.published", "bulk_run.done"] and hook.active
    html = response.content.decode()
    assert "Copy the signing secret now" in html and hook.secret in html
    again = client.get(url).content.decode()
    assert receiver.url in again and hook.secret not in again
    assert hook.secret not in client.get(reverse("webhooks:detail",
                                                 args=[cast.ws.pk, hook.pk])).content.decode()


def test_a_refused_url_keeps_the_form_and_says_why(cast):
    client = client_for(cast.alice)
    response = client.post(reverse("webhooks:list", args=[cast.ws.pk]),
                           {"url": "https://169.254.169.254/latest/meta-data/",
                            "events": ["generation.done"], "active": "on"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "169.254.169.254 is a link-local address" in html
    assert 'value="https://169.254.169.254/latest/meta-data/"' in html
    assert not Webhook.objects.exists()
    response = client.post(reverse("webhooks:list", args=[cast.ws.pk]),
                           {"url": "https://93.184.215.14/h", "active": "on"})
    assert response.status_code == 400 and "Choose at least one event" in response.content.decode()


def test_the_test_button_queues_a_ping_and_the_log_shows_the_answer(cast, hook, receiver,
                                                                    outbox):
    client = client_for(cast.alice)
    detail = reverse("webhooks:detail", args=[cast.ws.pk, hook.pk])
    response = client.post(reverse("webhooks:test", args=[cast.ws.pk, hook.pk]))
    assert response.status_code == 302 and response["Location"] == detail
    html = client.get(detail).content.decode()
    assert "sending" in html and 'hx-trigger="every 3s"' in html
    deliver_all(outbox)
    log = client.get(detail, {"part": "log"}, HTTP_HX_REQUEST="true").content.decode()
    assert "HTTP 200" in log and "delivered" in log and "every 3s" not in log
    assert receiver.requests[0].verified


def test_an_owner_edits_rotates_and_deletes(cast, hook, receiver):
    client = client_for(cast.alice)
    ws = cast.ws.pk
    response = client.post(reverse("webhooks:detail", args=[ws, hook.pk]),
                           {"url": receiver.url, "events": ["generation.done"]})
    assert response.status_code == 302
    hook.refresh_from_db()
    assert hook.events == ["generation.done"] and not hook.active
    old = hook.secret
    html = client.post(reverse("webhooks:rotate", args=[ws, hook.pk])).content.decode()
    hook.refresh_from_db()
    assert hook.secret != old and hook.secret in html and "Copy the new signing secret" in html
    response = client.post(reverse("webhooks:delete", args=[ws, hook.pk]))
    assert response.status_code == 302 and not Webhook.objects.filter(pk=hook.pk).exists()


def test_services_refuse_editors(cast, loopback_allowed, receiver, hook):
    with pytest.raises(services.WebhookError, match="Only the workspace's owners") as exc:
        services.webhook_create(membership=cast.bob_m, url=receiver.url, events=Event.values)
    assert exc.value.status == 403
    for call in (services.webhook_rotate_secret, services.webhook_delete,
                 services.webhook_send_test):
        with pytest.raises(services.WebhookError):
            call(membership=cast.bob_m, webhook_id=hook.pk)


def test_another_workspaces_webhook_is_404_in_mine(cast, hook, charlie_client, outbox):
    own = cast.other.pk
    for name in ("webhooks:detail", "webhooks:test", "webhooks:rotate", "webhooks:delete"):
        response = charlie_client.post(reverse(name, args=[own, hook.pk]),
                                       {"url": "https://93.184.215.14/x",
                                        "events": ["generation.done"]})
        assert response.status_code == 404, name
    with pytest.raises(services.WebhookError) as exc:
        services.webhook_rotate_secret(membership=cast.charlie_m, webhook_id=hook.pk)
    assert exc.value.status == 404
    hook.refresh_from_db()
    assert hook.url.startswith("http://127.0.0.1") and outbox == []
    assert json.loads(json.dumps(hook.events)) == Event.values
