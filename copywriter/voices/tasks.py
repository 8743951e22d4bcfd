from __future__ import annotations

import logging

from celery import shared_task

log = logging.getLogger(__name__)


@shared_task(name="generation.train_voice", bind=True, max_retries=2)
def train_voice(self, voice_id: int) -> str:  # type: ignore[no-untyped-def]
    """Train a workspace's brand-voice adapter. Idempotent: a redelivered job for a voice that
    is ready, failed or cancelled does nothing; one that was cut off starts over."""
    from copywriter.voices import training

    return training.run(voice_id)
