from __future__ import annotations

from django.dispatch import Signal

# Sent with ``document_id`` inside the transaction of every create, save, restore, trash and
# untrash of a document's text: what reads it (the originality index) catches up after commit.
document_changed = Signal()
