"""No job is lost when a worker dies: real Redis broker, real worker processes, real model.

Each scenario runs a generation, kills part or all of the worker mid-generation, and checks the
job completes with exactly one set of variants. A negative control turns late acknowledgement
off and shows the same kill loses the job, so these tests can fail.
"""

from __future__ import annotations

import os

import pytest

from copywriter.generation.models import Generation, Status
from copywriter.generation.services import generation_create
from tests.support import workers
from tests.support.report import report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not workers.redis_available(), reason="needs Redis on 6379")]
GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns"}
TRIALS = int(os.environ.get("KILL_TRIALS", "2"))  # KILL_TRIALS=10 for a longer run


@pytest.fixture
def make_job(cast, ad_template, monkeypatch):
    monkeypatch.setattr("copywriter.generation.services.enqueue", lambda gen: None)
    workers.flush()

    def make() -> Generation:
        gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD,
                                tone="neutral", variants=3, length="medium")
        workers.publish(gen.pk)
        return gen
    return make


@pytest.fixture
def env(tmp_path):
    (tmp_path / "no-adapters").mkdir()
    return workers.worker_env(COPYWRITER_TONE_ADAPTERS=str(tmp_path / "no-adapters"),
                              CELERY_VISIBILITY_TIMEOUT="6")


def _writing(gen: Generation) -> bool:
    gen.refresh_from_db()
    return gen.status == Status.RUNNING and gen.results.exclude(text="").exists()


def _done(gen: Generation) -> bool:
    gen.refresh_from_db()
    return gen.status == Status.DONE


def _assert_one_complete_result(gen: Generation) -> None:
    variants = list(gen.results.order_by("index"))
    assert [v.index for v in variants] == [0, 1, 2]
    assert all(v.finished and v.text for v in variants)
    assert gen.attempts >= 2  # it really was interrupted and run again


def test_killed_child_process_mid_generation(make_job, env, tmp_path):
    worker = workers.Worker(env, tmp_path / "worker.log").start()
    try:
        for trial in range(TRIALS):
            gen = make_job()
            assert workers.wait_for(lambda gen=gen: _writing(gen), 240), f"trial {trial}: never started"
            worker.kill_child()
            assert workers.wait_for(lambda gen=gen: _done(gen), 300), (
                f"trial {trial}: not completed after the kill\n" + (tmp_path / "worker.log").read_text()[-3000:])
            _assert_one_complete_result(gen)
    finally:
        worker.stop()
    report(f"kill trials (worker child SIGKILL mid-generation): {TRIALS}, each completed once")


def test_whole_worker_killed_and_restarted(make_job, env, tmp_path):
    for trial in range(TRIALS):
        gen = make_job()
        worker = workers.Worker(env, tmp_path / "worker.log").start()
        try:
            assert workers.wait_for(lambda gen=gen: _writing(gen), 240), f"trial {trial}: never started"
            worker.kill_all()
            worker = workers.Worker(env, tmp_path / "worker.log").start()
            assert workers.wait_for(lambda gen=gen: _done(gen), 300), (
                f"trial {trial}: lost\n" + (tmp_path / "worker.log").read_text()[-3000:])
            _assert_one_complete_result(gen)
        finally:
            worker.stop()
    report(f"kill trials (whole worker SIGKILL + restart): {TRIALS}, each completed once")


def test_negative_control_without_late_ack_the_job_is_lost(make_job, env, tmp_path):
    """The same kill with late acknowledgement off loses the job: the tests above can fail."""
    env = {**env, "CELERY_TASK_ACKS_LATE": "0", "CELERY_TASK_REJECT_ON_WORKER_LOST": "0"}
    gen = make_job()
    worker = workers.Worker(env, tmp_path / "worker.log").start()
    try:
        assert workers.wait_for(lambda gen=gen: _writing(gen), 240)
        worker.kill_all()
        worker = workers.Worker(env, tmp_path / "worker.log").start()
        # Well past the visibility timeout and the lease: nothing brings the job back.
        assert not workers.wait_for(lambda gen=gen: _done(gen), 45)
        gen.refresh_from_db()
        assert gen.status == Status.RUNNING
        report("negative control (acks on receipt, whole worker killed): job lost, as expected")
    finally:
        worker.stop()
