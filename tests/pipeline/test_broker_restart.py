"""Queued jobs survive a broker restart; a broken model leaves failed jobs that Retry can rerun.

A private redis-server (its own unix socket and data folder, append-only file on) is the broker.
Jobs are created and sent with no worker running, Redis is stopped (SIGTERM) and started again
on the same folder, then a real worker (tiny random-weight model) must finish every job exactly
once. The negative control restarts Redis without persistence: the same jobs are lost, so the
test can fail.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest
import redis
from django.urls import reverse

from copywriter.generation.models import Generation, Status
from copywriter.generation.services import generation_create
from tests.support import workers
from tests.support.cast import client_for
from tests.support.report import report

REDIS_SERVER = shutil.which("redis-server")
pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(REDIS_SERVER is None, reason="needs the redis-server binary")]
GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns"}
JOBS = 6


class PrivateRedis:
    def __init__(self, folder: Path, *, persistent: bool):
        self.folder, self.persistent = folder, persistent
        self.sock = folder / "r.sock"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.sock}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.sock), socket_timeout=2)

    def start(self) -> PrivateRedis:
        args = [REDIS_SERVER, "--port", "0", "--unixsocket", str(self.sock), "--unixsocketperm",
                "700", "--dir", str(self.folder), "--save", ""]
        args += (["--appendonly", "yes", "--appendfsync", "always"] if self.persistent
                 else ["--appendonly", "no"])
        self.proc = subprocess.Popen(args, stdout=(self.folder / "redis.log").open("ab"),
                                     stderr=subprocess.STDOUT)
        assert workers.wait_for(self._up, 15), (self.folder / "redis.log").read_text()[-2000:]
        return self

    def _up(self) -> bool:
        try:
            return bool(self.client().ping())
        except (redis.RedisError, OSError):
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # Redis's own graceful shutdown
            self.proc.wait(20)

    def queued(self, queue: str = "cpu") -> int:
        return int(self.client().llen(queue))


def _publish(broker_url: str, generation_id: int) -> None:
    from copywriter.celery import app
    from copywriter.pipeline.tasks import generate

    with app.connection_for_write(broker_url) as conn:
        generate.apply_async(args=[generation_id], queue="cpu", connection=conn)


@pytest.fixture
def tiny_env(tiny_model_dir, tmp_path):
    (tmp_path / "no-adapters").mkdir(exist_ok=True)
    return workers.worker_env(COPYWRITER_MODEL_PATH=str(tiny_model_dir),
                              COPYWRITER_TONE_ADAPTERS=str(tmp_path / "no-adapters"),
                              COPYWRITER_DEVICE="cpu")


@pytest.fixture
def make_jobs(cast, ad_template, monkeypatch):
    from copywriter.originality.models import OriginalitySettings

    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    # The broker is under test here, not the originality review of each variant (embeddings).
    OriginalitySettings.objects.update_or_create(workspace=cast.ws,
                                                 defaults={"check_generations": False})

    def make(broker_url: str, n: int) -> list[Generation]:
        gens = [generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD,
                                  tone="neutral", variants=2, length="short") for _ in range(n)]
        for gen in gens:
            _publish(broker_url, gen.pk)
        return gens
    return make


def _all_done(gens: list[Generation]) -> bool:
    return Generation.objects.filter(pk__in=[g.pk for g in gens], status=Status.DONE).count() == len(gens)


def _restart_with_jobs_queued(tmp_path: Path, make_jobs, env: dict[str, str], *, persistent: bool,
                              wait: float) -> tuple[list[Generation], int, bool]:
    broker = PrivateRedis(tmp_path, persistent=persistent).start()
    worker = None
    try:
        gens = make_jobs(broker.url, JOBS)
        assert broker.queued() == JOBS  # sent, and no worker to take them
        broker.stop()
        broker.start()
        after_restart = broker.queued()
        worker = workers.Worker({**env, "CELERY_BROKER_URL": broker.url},
                                tmp_path / "worker.log").start()
        done = workers.wait_for(lambda: _all_done(gens), wait)
        return gens, after_restart, done
    finally:
        if worker is not None:
            worker.stop()
        broker.stop()


def test_jobs_queued_across_a_redis_restart_all_complete_once(tmp_path, make_jobs, tiny_env):
    gens, after_restart, done = _restart_with_jobs_queued(tmp_path, make_jobs, tiny_env,
                                                          persistent=True, wait=240)
    log = (tmp_path / "worker.log").read_text()[-3000:] if (tmp_path / "worker.log").exists() else ""
    assert after_restart == JOBS, "the append-only file did not bring the queue back"
    assert done, log
    for gen in Generation.objects.filter(pk__in=[g.pk for g in gens]):
        variants = list(gen.results.order_by("index"))
        assert [v.index for v in variants] == [0, 1] and all(v.finished for v in variants)
    report(f"broker restart (SIGTERM, AOF on, no worker running): {JOBS}/{JOBS} queued jobs "
           "completed once after the restart")


def test_negative_control_without_persistence_the_jobs_are_lost(tmp_path, make_jobs, tiny_env):
    gens, after_restart, done = _restart_with_jobs_queued(tmp_path, make_jobs, tiny_env,
                                                          persistent=False, wait=30)
    assert after_restart == 0 and not done
    assert Generation.objects.filter(pk__in=[g.pk for g in gens], status=Status.QUEUED).count() == JOBS
    report(f"negative control (Redis restarted without persistence): {JOBS}/{JOBS} jobs lost, "
           "as expected")


def test_redis_restarted_under_a_running_worker_loses_nothing(tmp_path, make_jobs, tiny_env):
    """The worker stays up while Redis goes down with jobs queued and in flight: it reconnects,
    and every job completes once (unacknowledged ones come back after the visibility timeout)."""
    broker = PrivateRedis(tmp_path, persistent=True).start()
    env = {**tiny_env, "CELERY_BROKER_URL": broker.url, "CELERY_VISIBILITY_TIMEOUT": "6"}
    worker = workers.Worker(env, tmp_path / "worker.log").start()
    try:
        assert workers.wait_for(lambda: "ready." in (tmp_path / "worker.log").read_text(), 120)
        gens = make_jobs(broker.url, JOBS)

        def started() -> bool:
            return Generation.objects.filter(pk__in=[g.pk for g in gens]).exclude(
                status=Status.QUEUED).exists()
        assert workers.wait_for(started, 120), (tmp_path / "worker.log").read_text()[-3000:]
        pending = Generation.objects.filter(pk__in=[g.pk for g in gens]).exclude(
            status=Status.DONE).count()
        broker.stop()
        broker.start()
        assert workers.wait_for(lambda: _all_done(gens), 240), (
            (tmp_path / "worker.log").read_text()[-3000:])
        for gen in Generation.objects.filter(pk__in=[g.pk for g in gens]):
            assert gen.results.count() == 2 and gen.results.filter(finished=True).count() == 2
    finally:
        worker.stop()
        broker.stop()
    report(f"broker restart under a running worker: {JOBS}/{JOBS} jobs completed once "
           f"({pending} not yet done when Redis stopped)")


def test_broken_model_fails_the_job_with_inputs_kept_and_retry_runs_it(
        tmp_path, cast, ad_template, monkeypatch, tiny_env):
    """A worker whose model folder is broken: the job ends failed (not lost, not stuck), its
    inputs intact; after the model is fixed, the Retry button runs it again to completion."""
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    broker = PrivateRedis(tmp_path, persistent=True).start()
    monkeypatch.setattr("copywriter.generation.services.enqueue",
                        lambda gen: _publish(broker.url, gen.pk))
    env = {**tiny_env, "CELERY_BROKER_URL": broker.url, "GENERATION_MAX_ATTEMPTS": "2"}
    worker = workers.Worker({**env, "COPYWRITER_MODEL_PATH": str(broken)},
                            tmp_path / "worker.log").start()
    try:
        response = client_for(cast.bob).post(
            reverse("catalog:detail", args=[cast.ws.pk, ad_template.pk]),
            {**GOOD, "tone": "neutral", "variants": "2", "length": "short"})
        assert response.status_code == 302
        gen = Generation.objects.get()

        def failed() -> bool:
            gen.refresh_from_db()
            return gen.status == Status.FAILED
        assert workers.wait_for(failed, 180), (tmp_path / "worker.log").read_text()[-3000:]
        assert gen.error and gen.attempts == 2 and gen.fields["product"] == GOOD["product"]
        page = client_for(cast.bob).get(reverse("generation:detail", args=[cast.ws.pk, gen.pk]))
        assert reverse("generation:retry", args=[cast.ws.pk, gen.pk]) in page.content.decode()
        worker.stop()
        worker = workers.Worker(env, tmp_path / "worker.log").start()  # the model is fixed
        client_for(cast.bob).post(reverse("generation:retry", args=[cast.ws.pk, gen.pk]))
        retry = Generation.objects.get(retry_of=gen)
        assert retry.fields == gen.fields and retry.tone == gen.tone

        def done() -> bool:
            retry.refresh_from_db()
            return retry.status == Status.DONE
        assert workers.wait_for(done, 240), (tmp_path / "worker.log").read_text()[-3000:]
        assert retry.results.filter(finished=True).count() == 2
    finally:
        worker.stop()
        broker.stop()
    report("broken model: job failed after 2 attempts with inputs kept; Retry completed it")
