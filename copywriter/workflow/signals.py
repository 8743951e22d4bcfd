"""What the document workflow tells the apps above it (webhooks listen here; the workflow
records its own audit events with ``copywriter.audit.services.record``, which sits below it).

``document_state_changed`` is sent once per transition, after the transaction that made it
commits, with ``sender=Document`` and the keyword arguments:

- ``document``: the ``documents.Document``;
- ``version``: the ``documents.Version`` the transition is about (the one reviewed, approved,
  published), or ``None``;
- ``old`` / ``new``: state names, one of ``draft``, ``in_review``, ``changes_requested``,
  ``approved``, ``published``;
- ``actor``: the user who made the change (``None`` for the system, e.g. an edit after approval
  sending the document back to draft is made by the editor who edited);
- ``comment``: the decision's comment text, or ``""``.
"""

from __future__ import annotations

from django.dispatch import Signal

document_state_changed = Signal()
