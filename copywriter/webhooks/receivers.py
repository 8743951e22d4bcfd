"""What the apps below tell webhooks, turned into messages (``services.emit``). Each receiver
runs after the sender's transaction committed; it builds the payload from the rows as they are
now and queues one message per subscribed webhook."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.urls import reverse

from copywriter.bulk.models import BulkRow, BulkRun
from copywriter.bulk.signals import bulk_run_finished
from copywriter.documents.models import Document
from copywriter.generation.models import Generation
from copywriter.generation.signals import generation_finished
from copywriter.webhooks import services
from copywriter.webhooks.models import Event
from copywriter.workflow.signals import document_state_changed

log = logging.getLogger(__name__)

STATE_EVENTS = {"approved": Event.DOCUMENT_APPROVED, "published": Event.DOCUMENT_PUBLISHED}


def _link(name: str, *args: Any) -> str:
    return settings.SITE_URL.rstrip("/") + reverse(name, args=args)


def _quiet(receiver: Callable[..., None]) -> Callable[..., None]:
    """A webhook that cannot be queued is logged, never raised into the sender: the approval,
    the generation or the run it reports has already committed."""

    @functools.wraps(receiver)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        try:
            receiver(*args, **kwargs)
        except Exception:
            log.exception("queuing webhooks in %s failed", receiver.__name__)

    return wrapper


@_quiet
def on_document_state_changed(sender: Any, *, document: Document, version: Any = None,
                              old: str = "", new: str = "", actor: Any = None, comment: str = "",
                              **kwargs: Any) -> None:
    event = STATE_EVENTS.get(new)
    if event is None:
        return
    data = {"document": {"id": document.pk, "title": document.title,
                         "url": _link("documents:edit", document.workspace_id, document.pk)},
            "version": ({"number": version.number, "title": version.title, "body": version.body}
                        if version is not None else None),
            "from": old, "to": new, "comment": comment,
            "actor": services.person(actor)}
    services.emit(workspace_id=document.workspace_id, event=event, data=data)


@_quiet
def on_generation_finished(sender: Any, *, generation_id: int, status: str,
                           **kwargs: Any) -> None:
    gen = Generation.objects.filter(pk=generation_id).select_related("template").first()
    # A bulk run's rows are told once, by bulk_run.done, not one message a row.
    if gen is None or BulkRow.objects.filter(generation_id=generation_id).exists():
        return
    data: dict[str, Any] = {"generation": {
        "id": gen.pk, "status": status, "template": gen.template.slug, "tone": gen.tone,
        "url": _link("generation:detail", gen.workspace_id, gen.pk),
        "finished_at": gen.finished_at}}
    if status == "done":
        data["generation"]["variants"] = [
            {"index": v.index, "text": v.text} for v in gen.results.order_by("index")]
    else:
        data["generation"]["error"] = gen.error
    services.emit(workspace_id=gen.workspace_id, event=Event.GENERATION_DONE, data=data)


@_quiet
def on_bulk_run_finished(sender: Any, *, run_id: int, status: str, **kwargs: Any) -> None:
    run = BulkRun.objects.filter(pk=run_id).select_related("template").first()
    if run is None:
        return
    data = {"bulk_run": {"id": run.pk, "status": status, "file_name": run.file_name,
                         "template": run.template.slug, "total": run.total, "done": run.done,
                         "failed": run.failed, "invalid": run.invalid, "skipped": run.skipped,
                         "url": _link("bulk:run", run.workspace_id, run.pk),
                         "finished_at": run.finished_at}}
    services.emit(workspace_id=run.workspace_id, event=Event.BULK_RUN_DONE, data=data)


def connect() -> None:
    document_state_changed.connect(on_document_state_changed, dispatch_uid="webhooks-documents")
    generation_finished.connect(on_generation_finished, dispatch_uid="webhooks-generations")
    bulk_run_finished.connect(on_bulk_run_finished, dispatch_uid="webhooks-bulk")
