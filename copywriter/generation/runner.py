"""Worker side: the rules of a generation row while a worker holds it.

The worker pipeline (``copywriter/pipeline``) calls these, from above: what a delivered job
means now (``prepare``), which adapter a tone needs, writing growing texts and extending the
lease, storing a finished generation whole, failing, and putting rows back after a crash. A row
is held with a lease naming this process; a second delivery of the same job finds it done
(returns), held by a live process (waits for the lease), or held by a dead one (goes back to
the queue). A generation's variants are written whole when it finishes, so a re-run after a
kill never leaves duplicates. This module calls nothing above the generation app.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, NamedTuple

import psutil
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from copywriter.generation.models import Generation, Status, Variant
from copywriter.generation.signals import finished_on_commit
from copywriter.generation.tones import NEUTRAL, VOICE_PREFIX, is_voice, tone_line
from copywriter.voices.models import BrandVoice

log = logging.getLogger(__name__)
LEASE_SECONDS = settings.GENERATION_LEASE_SECONDS
MAX_ATTEMPTS = settings.GENERATION_MAX_ATTEMPTS


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


class Served(NamedTuple):
    """How the worker writes a tone: the adapter's name in the engine, the folder to load (None:
    the base), and a line asking for the tone in the prompt ("" when an adapter writes it)."""

    adapter: str
    path: Path | None
    prompt_line: str = ""


_warned: set[tuple[str, str]] = set()  # (tone, base) served without its adapter: said once


def _warn_once(tone: str, base: str, message: str) -> None:
    if (tone, base) not in _warned:
        _warned.add((tone, base))
        log.warning(message)


def adapter_for(tone: str) -> Served:
    """How a tone is served on the configured base; the neutral tone is the base.

    Only adapters trained on that base are used (``train_meta.json`` names it). A built-in tone
    without one is asked for in the prompt: a base other than the packaged one starts that way
    until ``manage.py train_tone --base`` trains its adapters. On the packaged base a missing
    adapter is still an error (they ship with it). A brand voice trained on another base is
    served as the neutral tone until it is trained again, with a warning in the worker's log.
    """
    from copywriter.ml.lora import BASE
    from copywriter.ml.model import base_id
    from copywriter.ml.paths import PACKAGED_BASE_ID, adapter_base, base_adapters_dir

    if tone == NEUTRAL:
        return Served(BASE, None)
    base = base_id()
    if is_voice(tone):
        voice = BrandVoice.objects.filter(pk=int(tone[len(VOICE_PREFIX):]), status="ready").first()
        if voice is None or not voice.adapter_path:
            raise LookupError(f"the brand voice {tone} is not ready")
        path = Path(voice.adapter_path)
        trained_on = adapter_base(path)
        if trained_on != base:
            _warn_once(tone, base, f"the brand voice {tone} was trained on the base {trained_on!r}, "
                                   f"not on {base!r}: served as the neutral tone")
            return Served(BASE, None)
        return Served(tone, path)
    path = base_adapters_dir(base) / tone
    if not (path / "adapter_model.safetensors").exists():
        if base == PACKAGED_BASE_ID:
            raise LookupError(f"no trained adapter for the tone {tone!r}")
        _warn_once(tone, base, f"no {tone} adapter for the base {base!r} in {path}: the tone is "
                               f"asked for in the prompt (manage.py train_tone {tone} --base ...)")
        return Served(BASE, None, tone_line(tone))
    trained_on = adapter_base(path)
    if trained_on != base:
        _warn_once(tone, base, f"the {tone} adapter {path} was trained on the base {trained_on!r}, "
                               f"not on {base!r}: the tone is asked for in the prompt")
        return Served(BASE, None, tone_line(tone))
    return Served(tone, path)


def fail(pk: int, message: str, *, permanent: bool) -> None:
    changed = Generation.objects.filter(pk=pk).exclude(status__in=[Status.DONE, Status.CANCELLED]).update(
        status=Status.FAILED, error=message, error_permanent=permanent,
        finished_at=timezone.now(), lease_until=None)
    if changed:
        finished_on_commit(sender=Generation, generation_id=pk, status=Status.FAILED.value)


def release(batch: list[Generation], me: str, error: str, *, final: bool) -> None:
    """After a crash inside the batch: rows go back to the queue, or fail when out of tries."""
    for gen in batch:
        gen.refresh_from_db()
        if gen.status != Status.RUNNING or gen.claimed_by != me:
            continue
        if final or gen.attempts >= MAX_ATTEMPTS:
            fail(gen.pk, error, permanent=False)
        else:
            Generation.objects.filter(pk=gen.pk, claimed_by=me).update(
                status=Status.QUEUED, claimed_by="", lease_until=None)


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


def attempt_failed(generation_id: int, error: str) -> None:
    """A try that failed before the job was claimed (the worker could not load its model): it
    counts as an attempt, and the job fails, inputs kept, once it is out of attempts."""
    with transaction.atomic():
        gen = Generation.objects.select_for_update().filter(pk=generation_id,
                                                            status=Status.QUEUED).first()
        if gen is None:
            return
        gen.attempts += 1
        gen.save(update_fields=["attempts"])
    if gen.attempts >= MAX_ATTEMPTS:
        fail(gen.pk, error, permanent=False)


@dataclass
class Written:
    index: int
    text: str
    tokens: int
    finish_reason: str
    slots: dict[str, list[str]] | None = None  # slot templates: the items, by slot name
    choice: dict[str, Any] | None = None  # best of N: why this candidate was shown


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
                    finish_reason=r.finish_reason, slots=r.slots, choice=r.choice,
                    originality=reports.get(r.index, {}).get("originality"),
                    claims=reports.get(r.index, {}).get("claims"),
                    style=reports.get(r.index, {}).get("style"))
            for r in sorted(rows, key=lambda r: r.index)])
        gen.status, gen.finished_at, gen.lease_until = Status.DONE, timezone.now(), None
        gen.timings = {**gen.timings, **timings}
        gen.error = ""
        gen.save(update_fields=["status", "finished_at", "lease_until", "timings", "error"])
        finished_on_commit(sender=Generation, generation_id=gen.pk, status=Status.DONE.value)
    return True
