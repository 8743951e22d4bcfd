"""A bulk run survives its worker being killed: real Redis, real Celery worker processes.

The whole worker is SIGKILLed while a batch of rows is being written, then started again. The
run must finish with exactly one written result per row, one job per row, no row lost and none
written twice.
"""

from __future__ import annotations

import pytest
from django.db import transaction

from copywriter.bulk import services, window
from copywriter.bulk.models import BulkRun, RowStatus, RunStatus
from copywriter.generation.models import Generation, Status, Variant
from tests.support import workers
from tests.support.bulk import csv_bytes, good_row
from tests.support.report import report

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not workers.redis_available(), reason="needs Redis on 6379")]
ROWS = 24


@pytest.fixture
def publish_to_test_redis(monkeypatch):
    def enqueue(gen):
        transaction.on_commit(lambda: workers.publish(gen.pk))

    monkeypatch.setattr("copywriter.generation.services.enqueue", enqueue)
    monkeypatch.setattr("copywriter.bulk.window.enqueue", enqueue)
    workers.flush()


def test_killed_worker_restarts_and_the_run_finishes_once_per_row(
        cast, product_template, tiny_model_dir, tmp_path, settings, publish_to_test_redis):
    settings.BULK_WINDOW = 8
    settings.GENERATION_MAX_NEW_TOKENS = 48
    (tmp_path / "no-adapters").mkdir()
    env = workers.worker_env(COPYWRITER_MODEL_PATH=str(tiny_model_dir),
                             COPYWRITER_TONE_ADAPTERS=str(tmp_path / "no-adapters"),
                             CELERY_VISIBILITY_TIMEOUT="6", GENERATION_BATCH_SEQUENCES="4",
                             BULK_WINDOW="8", GENERATION_MAX_NEW_TOKENS="48")
    run = services.bulk_run_create(membership=cast.bob_m, template=product_template,
                                   tone="neutral", file_name="c.csv", length="short",
                                   data=csv_bytes([good_row(i) for i in range(ROWS)]))
    run = services.bulk_run_start(membership=cast.bob_m, run=run)
    log = tmp_path / "worker.log"

    def mid_batch() -> bool:
        r = BulkRun.objects.get(pk=run.pk)
        writing = Variant.objects.filter(generation__status=Status.RUNNING).exclude(text="")
        return r.done >= 4 and writing.exists()

    def finished() -> bool:
        window.advance(run_id=run.pk)
        return BulkRun.objects.get(pk=run.pk).status == RunStatus.DONE

    worker = workers.Worker(env, log).start()
    try:
        assert workers.wait_for(mid_batch, 240), "never got mid-run\n" + log.read_text()[-3000:]
        done_before = BulkRun.objects.get(pk=run.pk).done
        worker.kill_all()
        interrupted = set(Generation.objects.filter(status=Status.RUNNING).values_list("pk", flat=True))
        assert interrupted and done_before < ROWS
        worker = workers.Worker(env, log).start()
        assert workers.wait_for(finished, 300, interval=1), (
            "run not finished after the restart\n" + log.read_text()[-3000:])
    finally:
        worker.stop()
    rows = list(BulkRun.objects.get(pk=run.pk).rows.order_by("index"))
    assert [r.index for r in rows] == list(range(1, ROWS + 1))
    assert all(r.status == RowStatus.DONE and r.result_text for r in rows)
    gens = Generation.objects.filter(workspace=cast.ws)
    assert gens.count() == ROWS  # one job per row: nothing queued twice
    assert sorted(r.generation_id for r in rows) == sorted(gens.values_list("pk", flat=True))
    assert all(g.status == Status.DONE and g.results.count() == 1 for g in gens)
    # The rows cut off by the kill were taken over and written once more, not duplicated.
    assert all(g.attempts >= 2 for g in gens.filter(pk__in=interrupted))
    report(f"bulk worker kill: {ROWS} rows, worker SIGKILLed with {done_before} done and "
           f"{len(interrupted)} mid-batch; restarted, {ROWS} rows written once each")
