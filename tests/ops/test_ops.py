"""Health endpoint, structured logs and task metrics."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from copywriter.generation.models import Generation, Status
from copywriter.ops import health, selectors
from copywriter.ops.logs import JsonFormatter, RequestIdFilter, request_id_var
from copywriter.voices.models import BrandVoice
from tests.support import workers
from tests.support.cast import client_for
from tests.support.report import report

DEAD_BROKER = "redis://127.0.0.1:1/0"
# The checks' details (hosts, exception text) are for monitoring with this token, or staff.
DETAILS = {"HTTP_X_HEALTH_TOKEN": "monitoring-token"}


@pytest.fixture(autouse=True)
def _fresh_health(settings):
    settings.HEALTH_DETAILS_TOKEN = DETAILS["HTTP_X_HEALTH_TOKEN"]
    health.clear_cache()
    yield
    health.clear_cache()


def _empty_test_redis() -> None:
    """Skip without the test Redis; otherwise start from an empty one (no queued jobs)."""
    if not workers.redis_available():
        pytest.skip("no Redis at TEST_REDIS_URL")
    workers.flush()


# --- /healthz --------------------------------------------------------------------------------

@pytest.mark.django_db
@override_settings(CELERY_BROKER_URL=DEAD_BROKER)
def test_healthz_names_the_broker_when_it_is_down():
    response = Client().get("/healthz", **DETAILS)
    assert response.status_code == 503
    data = response.json()
    assert data["status"] == "fail" and set(data["failed"]) == {"broker", "worker"}
    assert data["checks"]["database"]["ok"] is True
    assert "unreachable" in data["checks"]["worker"]["detail"]


@pytest.mark.django_db
def test_healthz_without_a_worker_is_503_naming_the_worker():
    _empty_test_redis()
    with override_settings(CELERY_BROKER_URL=workers.REDIS_URL, HEALTH_WORKER_TIMEOUT=0.3):
        response = Client().get("/healthz", **DETAILS)
        quick = Client().get("/healthz?quick=1", **DETAILS)
    assert response.status_code == 503 and response.json()["failed"] == ["worker"]
    assert "make worker" in response.json()["checks"]["worker"]["detail"]
    # Liveness does not ask the workers.
    assert quick.status_code == 200 and set(quick.json()["checks"]) == {"database", "broker"}


@pytest.mark.django_db
def test_healthz_reports_a_database_failure(monkeypatch):
    from django.db import connection
    from django.db.utils import OperationalError

    def broken(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken)
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
        data = Client().get("/healthz?quick=1", **DETAILS).json()
    assert data["checks"]["database"] == {"ok": False, "detail": "OperationalError: connection refused",
                                          "ms": data["checks"]["database"]["ms"]}


@pytest.mark.django_db
def test_healthz_is_cached_for_a_few_seconds(monkeypatch):
    calls = []
    real = health.check_database
    monkeypatch.setattr(health, "check_database", lambda: calls.append(1) or real())
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER, HEALTH_CACHE_SECONDS=60):
        for _ in range(3):
            Client().get("/healthz?quick=1")
    assert len(calls) == 1
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER, HEALTH_CACHE_SECONDS=0):
        Client().get("/healthz?quick=1")
    assert len(calls) == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_healthz_is_200_with_a_real_worker(tmp_path):
    _empty_test_redis()
    worker = workers.Worker(workers.worker_env(), tmp_path / "worker.log").start()
    try:
        with workers.broker(workers.REDIS_URL), override_settings(HEALTH_CACHE_SECONDS=0,
                                                                  HEALTH_WORKER_TIMEOUT=1.0):
            assert workers.wait_for(lambda: Client().get("/healthz").status_code == 200, 60,
                                    interval=1.0), (tmp_path / "worker.log").read_text()[-2000:]
            data = Client().get("/healthz", **DETAILS).json()
        assert data["status"] == "ok" and "test-" in data["checks"]["worker"]["detail"]
    finally:
        worker.stop()


# --- logs ------------------------------------------------------------------------------------

def test_json_log_line_carries_the_request_id_and_extras():
    record = logging.makeLogRecord({"name": "copywriter.x", "levelname": "INFO", "levelno": 20,
                                    "msg": "saved %s", "args": ("doc",), "document_id": 7})
    token = request_id_var.set("abc123")
    try:
        RequestIdFilter().filter(record)
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "saved doc" and line["request_id"] == "abc123"
    assert line["document_id"] == 7 and line["level"] == "INFO" and line["ts"].endswith("Z")


@pytest.mark.django_db
def test_every_response_has_a_request_id_and_a_good_incoming_one_is_kept(caplog):
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER), caplog.at_level(logging.INFO, "copywriter.request"):
        made = Client().get("/healthz?quick=1")
        kept = Client().get("/healthz?quick=1", HTTP_X_REQUEST_ID="lb-42")
        bad = Client().get("/healthz?quick=1", HTTP_X_REQUEST_ID="<script>")
    assert len(made["X-Request-ID"]) == 32 and kept["X-Request-ID"] == "lb-42"
    assert bad["X-Request-ID"] != "<script>"
    access = [r for r in caplog.records if r.name == "copywriter.request"]
    assert access and access[-1].status in (200, 503) and access[-1].path == "/healthz"


# --- metrics ---------------------------------------------------------------------------------

def _gen(ws, template, user, status, *, created, started=None, finished=None, queue="cpu"):
    return Generation.objects.create(workspace=ws, created_by=user, template=template,
                                     template_version=template.current, fields={}, prompt="p",
                                     tone="neutral", status=status, created_at=created,
                                     started_at=started, finished_at=finished, queue=queue)


@pytest.fixture
def jobs(cast, ad_template):
    now = timezone.now()
    t = lambda s: now - timedelta(seconds=s)  # noqa: E731
    # Alice's workspace: 4 done (wait 2,4,6,8 s; run 10,20,30,40 s), 1 failed, 2 queued, 1 running,
    # 1 done two days ago (outside the window).
    for i, (wait, run) in enumerate([(2, 10), (4, 20), (6, 30), (8, 40)]):
        _gen(cast.ws, ad_template, cast.alice, Status.DONE, created=t(1000 + i),
             started=t(1000 + i - wait), finished=t(1000 + i - wait - run))
    _gen(cast.ws, ad_template, cast.alice, Status.FAILED, created=t(500), started=t(499), finished=t(400))
    _gen(cast.ws, ad_template, cast.alice, Status.QUEUED, created=t(90))
    _gen(cast.ws, ad_template, cast.alice, Status.QUEUED, created=t(30), queue="gpu")
    _gen(cast.ws, ad_template, cast.alice, Status.RUNNING, created=t(20), started=t(15))
    _gen(cast.ws, ad_template, cast.alice, Status.DONE, created=t(200000), started=t(199990),
         finished=t(199900))
    # Charlie's workspace: 3 failures that Alice must never see.
    for _ in range(3):
        _gen(cast.other, ad_template, cast.charlie, Status.FAILED, created=t(60), started=t(50),
             finished=t(40))
    BrandVoice.objects.create(workspace=cast.ws, name="House", status="training")
    BrandVoice.objects.create(workspace=cast.ws, name="Old", status="ready", created_at=t(700),
                              updated_at=t(100))
    return cast


def test_workspace_metrics_count_and_time_only_that_workspace(jobs):
    gens, voices = selectors.task_metrics(workspace_id=jobs.ws.pk, hours=24)
    assert (gens.queued, gens.running, gens.done, gens.failed) == (2, 1, 4, 1)
    assert gens.run.n == 4 and gens.run.p50 == 25.0 and gens.run.p95 == pytest.approx(38.5)
    # waits of every job started in the window: 2, 4, 6, 8 (done), 1 (failed), 5 (running)
    assert gens.wait.n == 6 and gens.wait.p50 == pytest.approx(4.5, abs=0.1)
    assert 85 <= gens.oldest_queued_seconds <= 120
    assert gens.failure_rate == 0.2
    assert (voices.running, voices.done, voices.run.p50) == (1, 1, 600.0)
    week, _ = selectors.task_metrics(workspace_id=jobs.ws.pk, hours=168)
    assert week.done == 5
    everyone, _ = selectors.task_metrics(workspace_id=None, hours=24)
    assert everyone.failed == 4
    report("ops metrics: p50/p95 from percentile_cont checked against hand-computed durations")


def test_metrics_page_for_the_owner(jobs):
    html = client_for(jobs.alice).get(reverse("ops:metrics", args=[jobs.ws.pk])).content.decode()
    assert "Job metrics" in html and "25.0 s / 38.5 s" in html and "Brand-voice trainings" in html
    assert "Busiest workspaces" not in html  # the global part is staff only
    assert client_for(jobs.bob).get(reverse("ops:metrics", args=[jobs.ws.pk])).status_code == 403
    assert client_for(jobs.charlie).get(reverse("ops:metrics", args=[jobs.ws.pk])).status_code == 404


def test_global_metrics_are_staff_only(jobs):
    url = reverse("ops:global_metrics")
    assert client_for(jobs.alice).get(url).status_code == 404
    jobs.charlie.is_staff = True
    jobs.charlie.save()
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
        html = client_for(jobs.charlie).get(url).content.decode()
    assert "Busiest workspaces" in html and "Acme marketing" in html
    assert "Generations on queue gpu" in html and "failed" in html


def test_metrics_page_empty_state(cast):
    html = client_for(cast.alice).get(reverse("ops:metrics", args=[cast.ws.pk]) + "?hours=oops").content.decode()
    assert "last 24 h" in html and "&ndash;" in html


@pytest.mark.django_db
def test_django_error_lines_carry_the_request_id(caplog, cast):
    """Django logs a 404/403 after the middleware chain returns: the id must still be set."""
    caplog.handler.addFilter(RequestIdFilter())  # stamps the id when the line is emitted
    with caplog.at_level(logging.WARNING, "django.request"):
        response = client_for(cast.charlie).get(reverse("ops:metrics", args=[cast.ws.pk]),
                                                HTTP_X_REQUEST_ID="probe-404")
    assert response.status_code == 404
    lines = [r for r in caplog.records if r.name == "django.request"]
    assert lines and lines[-1].request_id == "probe-404"


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_job_logs_with_the_request_id_of_the_request_that_enqueued_it(tmp_path):
    """Publish as the web does during a request; the worker's JSON lines for it carry the id."""
    _empty_test_redis()
    log = tmp_path / "worker.log"
    worker = workers.Worker(workers.worker_env(LOG_FORMAT="json"), log).start()
    try:
        from copywriter.celery import app

        token = request_id_var.set("req-from-web-7")
        try:
            with app.connection_for_write(workers.REDIS_URL) as conn:
                app.send_task("bulk.resume_stalled", queue="default", connection=conn)
        finally:
            request_id_var.reset(token)

        def job_lines():
            return [json.loads(line) for line in log.read_text().splitlines()
                    if line.startswith("{") and "bulk.resume_stalled" in line]

        assert workers.wait_for(lambda: any("succeeded" in x["msg"] for x in job_lines()), 60), \
            log.read_text()[-2000:]
        done = [x for x in job_lines() if "succeeded" in x["msg"]]
        assert done[0]["request_id"] == "req-from-web-7"
    finally:
        worker.stop()
