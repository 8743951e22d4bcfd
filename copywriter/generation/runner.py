"""Worker side: claim a batch of queued generations, run them in one mixed-tone batch, store.

Idempotent under redelivery: a row is claimed with a lease naming this process; a second delivery
of the same job finds it done (returns), claimed by a live process (waits for the lease), or
claimed by a dead one (takes it over). Each row's variants are rewritten whole on completion, so
a re-run after a kill never leaves duplicates.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psutil
from django.db import transaction
from django.utils import timezone

from copywriter.generation.models import BrandVoice, Generation, Status, Variant
from copywriter.generation.tones import NEUTRAL, VOICE_PREFIX, is_voice

log = logging.getLogger(__name__)
LEASE_SECONDS = int(os.environ.get("GENERATION_LEASE_SECONDS", "90"))
BATCH_SEQUENCES = int(os.environ.get("GENERATION_BATCH_SEQUENCES", "32"))
MAX_ATTEMPTS = int(os.environ.get("GENERATION_MAX_ATTEMPTS", "3"))


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claimer_dead(claimed_by: str) -> bool:
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only its lease can tell
    return not psutil.pid_exists(int(pid)) or int(pid) == os.getpid()


@dataclass
class Outcome:
    done: bool
    wait_seconds: float = 0.0


def claim(generation_id: int, me: str) -> tuple[Outcome, list[Generation]]:
    """Claim ``generation_id`` plus other queued rows of its queue, up to one batch."""
    now = timezone.now()
    lease = now + timedelta(seconds=LEASE_SECONDS)
    with transaction.atomic():
        gen = (Generation.objects.select_for_update(skip_locked=True)
               .filter(pk=generation_id).first())
        if gen is None:
            # Locked by a claimer right now, or deleted: look again shortly.
            exists = Generation.objects.filter(pk=generation_id).exists()
            return (Outcome(done=not exists, wait_seconds=2.0), [])
        if gen.status in (Status.DONE, Status.FAILED, Status.CANCELLED):
            return Outcome(done=True), []
        if (gen.status == Status.RUNNING and gen.lease_until and gen.lease_until > now
                and not _claimer_dead(gen.claimed_by)):
            wait = (gen.lease_until - now).total_seconds()
            return Outcome(done=False, wait_seconds=max(1.0, min(wait, 30.0))), []
        batch = [gen]
        budget = BATCH_SEQUENCES - gen.variants
        others = (Generation.objects.select_for_update(skip_locked=True)
                  .filter(status=Status.QUEUED, queue=gen.queue).exclude(pk=gen.pk)
                  .order_by("created_at")[:BATCH_SEQUENCES])
        for other in others:
            if other.variants <= budget:
                batch.append(other)
                budget -= other.variants
        for row in batch:
            row.status, row.claimed_by, row.lease_until = Status.RUNNING, me, lease
            row.attempts += 1
            row.started_at = row.started_at or now
        Generation.objects.bulk_update(batch, ["status", "claimed_by", "lease_until", "attempts",
                                               "started_at"])
    return Outcome(done=False), batch


def adapter_for(tone: str) -> tuple[str, Path | None]:
    """(adapter name in the engine, folder to load) for a tone; the neutral tone is the base."""
    from copywriter.ml.lora import BASE
    from copywriter.ml.paths import adapters_dir

    if tone == NEUTRAL:
        return BASE, None
    if is_voice(tone):
        voice = BrandVoice.objects.filter(pk=int(tone[len(VOICE_PREFIX):]), status="ready").first()
        if voice is None or not voice.adapter_path:
            raise LookupError(f"the brand voice {tone} is not ready")
        return tone, Path(voice.adapter_path)
    path = adapters_dir() / tone
    if not (path / "adapter_model.safetensors").exists():
        raise LookupError(f"no trained adapter for the tone {tone!r}")
    return tone, path


def run_batch(batch: list[Generation], me: str, engine: Any = None) -> None:
    from copywriter.ml.engine import SeqRequest, get_engine

    engine = engine or get_engine()
    requests: list[SeqRequest] = []
    failed: dict[int, str] = {}
    needed: dict[str, Path] = {}
    for gen in batch:
        try:
            name, path = adapter_for(gen.tone)
        except LookupError as exc:
            failed[gen.pk] = str(exc)
            continue
        if path is not None and name not in getattr(engine, "adapter_paths", {}):
            needed[name] = path
        s = gen.sampling
        for i in range(gen.variants):
            requests.append(SeqRequest(
                prompt=gen.prompt, adapter=name, max_new_tokens=gen.max_new_tokens,
                temperature=float(s.get("temperature", 0.8)), top_p=float(s.get("top_p", 0.92)),
                repetition_penalty=float(s.get("repetition_penalty", 1.15)),
                seed=int(s.get("seed", 0)) + i, key=(gen.pk, i)))
    for pk, message in failed.items():
        _fail(pk, message, permanent=True)
    if needed:
        engine.ensure_adapters(needed)
    if not requests:
        bulk_rows_finished(list(failed))
        return
    started = time.monotonic()
    last_write = [0.0]

    def on_progress(partial: list[Any]) -> None:
        now = time.monotonic()
        if now - last_write[0] < 0.7:
            return
        last_write[0] = now
        _write_partial(partial, me)

    results = engine.generate(requests, on_progress=on_progress)
    elapsed = time.monotonic() - started
    tokens = sum(r.tokens for r in results)
    # Originality (copywriter/originality/generation.py): check every variant before it is
    # shown, rewrite flagged ones a bounded number of times, keep the report; never raises.
    from copywriter.originality import generation as originality

    review = originality.review_batch(batch, requests, results, engine=engine,
                                      on_progress=on_progress)
    by_gen: dict[int, list[Any]] = {}
    for r in review.results:
        by_gen.setdefault(r.key[0], []).append(r)
    for pk, rows in by_gen.items():
        _finish(pk, rows, me, {"batch_seconds": round(elapsed, 2), "batch_tokens": tokens,
                               "batch_sequences": len(requests),
                               "tokens_per_second": round(tokens / elapsed, 1) if elapsed else None,
                               **review.timings}, originality=review.reports)
    originality.index_finished(list(by_gen))
    bulk_rows_finished([g.pk for g in batch])


def bulk_rows_finished(pks: list[int]) -> None:
    """Tell bulk runs (copywriter/bulk) that some of their rows' jobs ended, so they record the
    results and queue their next rows. Never fails the batch: a run also catches up on its own."""
    if not pks:
        return
    try:
        from copywriter.bulk.services import generations_finished

        generations_finished(generation_ids=pks)
    except Exception:
        log.exception("updating bulk runs after a batch failed")


def _write_partial(partial: list[Any], me: str) -> None:
    """Stream: store texts as they grow, and extend the lease while alive."""
    by_key = {r.key: r for r in partial}
    gens = {k[0] for k in by_key}
    with transaction.atomic():
        live = set(Generation.objects.filter(pk__in=gens, claimed_by=me, status=Status.RUNNING)
                   .values_list("pk", flat=True))
        Generation.objects.filter(pk__in=live).update(
            lease_until=timezone.now() + timedelta(seconds=LEASE_SECONDS))
        variants = list(Variant.objects.filter(generation_id__in=live))
        for v in variants:
            r = by_key.get((v.generation_id, v.index))
            if r is not None:
                v.text, v.tokens, v.updated_at = r.text, r.tokens, timezone.now()
        Variant.objects.bulk_update(variants, ["text", "tokens", "updated_at"])


def _finish(pk: int, rows: list[Any], me: str, timings: dict[str, Any],
            originality: dict[Any, Any] | None = None) -> None:
    with transaction.atomic():
        gen = Generation.objects.select_for_update().get(pk=pk)
        if gen.status != Status.RUNNING or gen.claimed_by != me:
            return  # cancelled meanwhile, or taken over after our lease ran out
        Variant.objects.filter(generation=gen).delete()
        Variant.objects.bulk_create([
            Variant(generation=gen, index=r.key[1], text=r.text, tokens=r.tokens, finished=True,
                    finish_reason=r.finish_reason, originality=(originality or {}).get(r.key))
            for r in sorted(rows, key=lambda r: r.key[1])])
        gen.status, gen.finished_at, gen.lease_until = Status.DONE, timezone.now(), None
        gen.timings = {**gen.timings, **timings}
        gen.error = ""
        gen.save(update_fields=["status", "finished_at", "lease_until", "timings", "error"])


def _fail(pk: int, message: str, *, permanent: bool) -> None:
    Generation.objects.filter(pk=pk).exclude(status__in=[Status.DONE, Status.CANCELLED]).update(
        status=Status.FAILED, error=message, error_permanent=permanent,
        finished_at=timezone.now(), lease_until=None)


def release(batch: list[Generation], me: str, error: str, *, final: bool) -> None:
    """After a crash inside the batch: rows go back to the queue, or fail when out of tries."""
    for gen in batch:
        gen.refresh_from_db()
        if gen.status != Status.RUNNING or gen.claimed_by != me:
            continue
        if final or gen.attempts >= MAX_ATTEMPTS:
            _fail(gen.pk, error, permanent=False)
        else:
            Generation.objects.filter(pk=gen.pk, claimed_by=me).update(
                status=Status.QUEUED, claimed_by="", lease_until=None)
    bulk_rows_finished([g.pk for g in batch])


# --- the rows' rules for the worker pipeline (copywriter/pipeline calls these) ----------------

def prepare(generation_id: int, me: str) -> Outcome:
    """What a delivered job message means now: done (nothing to do), wait (a live worker holds
    it), or go. A row held by a dead worker, or whose lease ran out, goes back to the queue so
    that the scheduler claims it again (a killed worker loses nothing)."""
    now = timezone.now()
    with transaction.atomic():
        gen = (Generation.objects.select_for_update(skip_locked=True)
               .filter(pk=generation_id).first())
        if gen is None:
            exists = Generation.objects.filter(pk=generation_id).exists()
            return Outcome(done=not exists, wait_seconds=2.0)
        if gen.status in (Status.DONE, Status.FAILED, Status.CANCELLED):
            return Outcome(done=True)
        if gen.status == Status.RUNNING:
            if (gen.lease_until and gen.lease_until > now and gen.claimed_by != me
                    and not _claimer_dead(gen.claimed_by)):
                wait = (gen.lease_until - now).total_seconds()
                return Outcome(done=False, wait_seconds=max(1.0, min(wait, 30.0)))
            if gen.attempts >= MAX_ATTEMPTS:
                fail(gen.pk, "The writer stopped while writing this, too many times. Retry it.",
                     permanent=False)
                return Outcome(done=True)
            gen.status, gen.claimed_by, gen.lease_until = Status.QUEUED, "", None
            gen.save(update_fields=["status", "claimed_by", "lease_until"])
    return Outcome(done=False)


@dataclass
class Written:
    index: int
    text: str
    tokens: int
    finish_reason: str


def write_partial(gens: set[int], texts: dict[tuple[int, int], tuple[str, int]], me: str) -> set[int]:
    """Extend the leases of the generations ``gens`` this worker holds and store their growing
    texts ((generation, variant) -> (text, tokens)). Returns the generations still held: one
    cancelled meanwhile, or taken over after a lease ran out, is not."""
    with transaction.atomic():
        live = set(Generation.objects.filter(pk__in=gens, claimed_by=me, status=Status.RUNNING)
                   .values_list("pk", flat=True))
        Generation.objects.filter(pk__in=live).update(
            lease_until=timezone.now() + timedelta(seconds=LEASE_SECONDS))
        variants = list(Variant.objects.filter(generation_id__in=live))
        changed = []
        for v in variants:
            got = texts.get((v.generation_id, v.index))
            if got is not None and (v.text, v.tokens) != got:
                v.text, v.tokens, v.updated_at = got[0], got[1], timezone.now()
                changed.append(v)
        Variant.objects.bulk_update(changed, ["text", "tokens", "updated_at"])
    return live


def finish(pk: int, rows: list[Written], me: str, timings: dict[str, Any], *,
           reports: dict[int, dict[str, Any]]) -> bool:
    """Store a generation's variants whole (a re-run after a kill never duplicates them), with
    each review stage's report. False when the row is no longer ours (cancelled, taken over)."""
    with transaction.atomic():
        gen = Generation.objects.select_for_update().get(pk=pk)
        if gen.status != Status.RUNNING or gen.claimed_by != me:
            return False
        Variant.objects.filter(generation=gen).delete()
        Variant.objects.bulk_create([
            Variant(generation=gen, index=r.index, text=r.text, tokens=r.tokens, finished=True,
                    finish_reason=r.finish_reason,
                    originality=reports.get(r.index, {}).get("originality"))
            for r in sorted(rows, key=lambda r: r.index)])
        gen.status, gen.finished_at, gen.lease_until = Status.DONE, timezone.now(), None
        gen.timings = {**gen.timings, **timings}
        gen.error = ""
        gen.save(update_fields=["status", "finished_at", "lease_until", "timings", "error"])
    return True


def fail(pk: int, message: str, *, permanent: bool) -> None:
    _fail(pk, message, permanent=permanent)
