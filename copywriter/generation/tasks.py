from __future__ import annotations

import logging

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded

from copywriter.generation import runner

log = logging.getLogger(__name__)


@shared_task(name="generation.generate", bind=True, max_retries=None)
def generate(self, generation_id: int) -> str:  # type: ignore[no-untyped-def]
    """Generate one job (and whatever else is queued, in the same batch). Retry policy lives
    here: waiting on another process's lease is a retry with a countdown, not a sleep."""
    me = runner.worker_id()
    outcome, batch = runner.claim(generation_id, me)
    if outcome.done:
        return "done"
    if not batch:
        raise self.retry(countdown=outcome.wait_seconds)
    try:
        runner.run_batch(batch, me)
    except SoftTimeLimitExceeded:
        runner.release(batch, me, "The generation took longer than the time limit. Retry it, "
                                  "or ask for fewer variants or a shorter length.", final=True)
        return "timeout"
    except Exception as exc:
        log.exception("generation batch failed")
        runner.release(batch, me, f"The writer failed: {exc.__class__.__name__}: {exc}",
                       final=False)
        raise self.retry(countdown=2, exc=exc, max_retries=runner.MAX_ATTEMPTS) from exc
    return "generated"


@shared_task(name="generation.train_voice", bind=True, max_retries=2)
def train_voice(self, voice_id: int) -> str:  # type: ignore[no-untyped-def]
    """Train a workspace's brand-voice adapter. Idempotent: a redelivered job for a voice that
    is ready, failed or cancelled does nothing; one that was cut off starts over."""
    from copywriter.generation import voice_training

    return voice_training.run(voice_id)
