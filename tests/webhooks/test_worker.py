"""A real Celery worker delivers a message and retries it with backoff: real Redis, the real
receiver. The task publishes its own retry, so the second try is the worker's doing too."""

from __future__ import annotations

import pytest

from copywriter.webhooks import services
from copywriter.webhooks.models import Delivery, Event, Message, MessageStatus
from tests.support import workers
from tests.support.report import report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not workers.redis_available(), reason="needs Redis on 6379")]


def test_a_worker_retries_after_a_500_and_then_delivers(cast, loopback_allowed, receiver,
                                                        tmp_path):
    workers.flush()
    receiver.answers.append(500)
    made, receiver.secret = services.webhook_create(membership=cast.alice_m, url=receiver.url,
                                                    events=Event.values)
    env = workers.worker_env(WEBHOOK_ALLOWED_NETWORKS="127.0.0.0/8",
                             WEBHOOK_RETRY_BASE_SECONDS="1")
    worker = workers.Worker(env, tmp_path / "worker.log").start()
    try:
        with workers.broker(workers.REDIS_URL):
            message = services.webhook_send_test(membership=cast.alice_m, webhook_id=made.pk)

        def delivered() -> bool:
            return Message.objects.get(pk=message.pk).status == MessageStatus.DELIVERED

        assert workers.wait_for(delivered, timeout=90), (tmp_path / "worker.log").read_text()[-3000:]
    finally:
        worker.stop()
    tries = list(Delivery.objects.filter(message=message).order_by("number"))
    assert [(d.status_code, d.will_retry) for d in tries] == [(500, True), (200, False)]
    assert (tries[1].started_at - tries[0].started_at).total_seconds() >= 1  # the backoff
    assert [r.status for r in receiver.requests] == [500, 200]
    assert all(r.verified for r in receiver.requests)
    report("webhooks: a real worker retried a 500 after its backoff and delivered, signed")
