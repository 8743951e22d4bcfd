"""What the generation app tells the apps above it (webhooks listen here).

``generation_finished`` is sent once a generation ends, after the transaction that stored its
final state commits, with ``sender=Generation`` and the keyword arguments:

- ``generation_id``: the ``Generation``'s id;
- ``status``: ``"done"`` (its variants are stored whole) or ``"failed"`` (its error is stored).

A cancelled generation sends nothing. A receiver that fails is logged, never raised into the
worker (``send_robust``).
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.dispatch import Signal

log = logging.getLogger(__name__)

generation_finished = Signal()


def finished_on_commit(*, sender: type, generation_id: int, status: str) -> None:
    def send() -> None:
        for receiver, result in generation_finished.send_robust(
                sender=sender, generation_id=generation_id, status=status):
            if isinstance(result, Exception):
                log.error("generation_finished receiver %r failed for generation %s: %r",
                          receiver, generation_id, result)

    transaction.on_commit(send)
