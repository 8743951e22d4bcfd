"""Brand voices: a workspace's own LoRA adapter, trained from samples of its copy."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from copywriter.audit.services import record
from copywriter.core.counters import bump
from copywriter.core.errors import UserError
from copywriter.voices.models import BrandVoice
from copywriter.workspaces.decorators import require_writer
from copywriter.workspaces.models import Membership

MIN_SAMPLES = 20
MAX_SAMPLES = 400
MIN_WORDS = 12
MAX_CHARS = 3000


# Serialises voice creation across the deployment (a PostgreSQL advisory lock): the budgets
# below are read, checked and spent by one request at a time, so a burst cannot overshoot them.
_CREATE_LOCK = 0x766F6963  # "voic"
PENDING = ("queued", "training")


class VoiceError(UserError):
    """``status``: 400 for bad samples, 429 for a spent training budget (transient: retrying
    later helps)."""


def _day(scope: str, ident: int) -> str:
    return f"voice-trainings:{scope}:{ident}:{timezone.now():%Y%m%d}"


def _check_training_budget(membership: Membership) -> None:
    """A training holds a worker for up to ``CELERY_TASK_TIME_LIMIT``: trainings have a queue of
    their own (``VOICE_QUEUE``) and budgets, per workspace and per user per day (counted in the
    cache, like generation quotas), one waiting or running per workspace, and at most
    ``VOICE_TRAININGS_PENDING_MAX`` waiting or running in the whole deployment."""
    ws, user = membership.workspace_id, membership.user_id
    if BrandVoice.objects.filter(workspace_id=ws, status__in=PENDING).exists():
        raise VoiceError("A brand voice of this workspace is already waiting or training; this "
                         "one can start when it is done (or cancel it).", status=429,
                         permanent=False)
    if BrandVoice.objects.filter(status__in=PENDING).count() >= settings.VOICE_TRAININGS_PENDING_MAX:
        raise VoiceError(f"{settings.VOICE_TRAININGS_PENDING_MAX} brand voices are already "
                         "waiting or training on this server; try again in a while.", status=429,
                         permanent=False)
    if int(cache.get(_day("ws", ws), 0)) >= settings.VOICE_TRAININGS_PER_DAY:
        raise VoiceError(f"This workspace started {settings.VOICE_TRAININGS_PER_DAY} brand-voice "
                         "trainings today, the daily limit; it resets at midnight UTC.", status=429,
                         permanent=False)
    if int(cache.get(_day("user", user), 0)) >= settings.VOICE_TRAININGS_PER_USER_PER_DAY:
        raise VoiceError(f"You started {settings.VOICE_TRAININGS_PER_USER_PER_DAY} brand-voice "
                         "trainings today, the daily limit per person; it resets at midnight "
                         "UTC.", status=429, permanent=False)


# The whitespace around the dashes never matches a newline: with ``\s*`` there, each line start
# of a run of blank lines rescanned the whole run, and 2 MB of them took a web worker seconds.
_DASH_LINE = re.compile(r"^[ \t\f\v\r]*---+[ \t\f\v\r]*$", re.M)
_BLANK_LINES = re.compile(r"\n\s*\n")  # one pass: a failed try stops at a non-space


def split_samples(text: str) -> list[str]:
    """Samples are separated by a line holding only ``---`` or by blank lines (with a ``---``
    line anywhere, only those separate, so samples may hold blank lines)."""
    text = text.replace("\r\n", "\n")
    parts = (_DASH_LINE.split(text) if _DASH_LINE.search(text) else _BLANK_LINES.split(text))
    return [p.strip() for p in parts if p.strip()]


def check_samples(samples: list[str]) -> list[str]:
    problems = []
    short = [i + 1 for i, s in enumerate(samples) if len(s.split()) < MIN_WORDS]
    long = [i + 1 for i, s in enumerate(samples) if len(s) > MAX_CHARS]
    usable = len(samples) - len(short) - len(long)
    if short:
        problems.append(f"Samples {', '.join(map(str, short[:10]))} have fewer than {MIN_WORDS} "
                        "words; they are too short to learn a voice from.")
    if long:
        problems.append(f"Samples {', '.join(map(str, long[:10]))} are over {MAX_CHARS} "
                        "characters; split them into several samples.")
    if usable < MIN_SAMPLES:
        problems.append(f"{usable} usable sample{'s' if usable != 1 else ''}: a brand voice needs "
                        f"at least {MIN_SAMPLES}. Paste more of your copy, separated by blank "
                        "lines or by a line with ---.")
    if len(samples) > MAX_SAMPLES:
        problems.append(f"{len(samples)} samples: the limit is {MAX_SAMPLES}.")
    if len({s.lower() for s in samples}) < len(samples):
        problems.append("Some samples are exact duplicates; remove the copies.")
    return problems


def voice_create(*, membership: Membership, name: str, samples: list[str]) -> BrandVoice:
    require_writer(membership, VoiceError("Viewers cannot train brand voices."))
    name = name.strip()[:80]
    if not name:
        raise VoiceError("Give the voice a name.")
    problems = check_samples(samples)
    if problems:
        raise VoiceError(" ".join(problems))
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CREATE_LOCK])
        _check_training_budget(membership)
        voice = BrandVoice.objects.create(workspace=membership.workspace, name=name,
                                          samples=samples, status="queued",
                                          created_by=membership.user)
        bump(_day("ws", membership.workspace_id), timeout=2 * 86400)
        bump(_day("user", membership.user_id), timeout=2 * 86400)
        from copywriter.voices.tasks import train_voice

        # The queue is VOICE_QUEUE (CELERY_TASK_ROUTES), which the generation workers do not
        # read: a training never stands in front of anyone's generations.
        transaction.on_commit(lambda: train_voice.apply_async(args=[voice.pk]))
    return voice


def voice_cancel(*, membership: Membership, voice: BrandVoice) -> None:
    require_writer(membership, VoiceError("Viewers cannot cancel training."))
    BrandVoice.objects.filter(pk=voice.pk, status__in=["queued", "training"]).update(
        status="cancelled", updated_at=timezone.now())


def voice_delete(*, membership: Membership, voice: BrandVoice) -> None:
    require_writer(membership, VoiceError("Viewers cannot delete brand voices."))
    with transaction.atomic():
        record(workspace=membership.workspace_id, actor=membership.user,
               action="voice.deleted", target=voice,
               summary=f"deleted the brand voice {voice.name!r}",
               details={"samples": len(voice.samples or [])})
        voice.delete()


def instruction_for(sample: str) -> str:
    """A brief for a sample, from its keyphrases: the model learns to write such copy from it."""
    import yake

    words = len(sample.split())
    extractor = yake.KeywordExtractor(lan="en", n=3, top=3)
    phrases = [k for k, _ in extractor.extract_keywords(sample)]
    topic = ", ".join(phrases) if phrases else sample.split(".")[0][:80]
    return f"Write a piece of marketing copy of about {words} words about: {topic}."


def progress_writer(voice_id: int) -> Any:
    from copywriter.ml.train import Cancelled

    def progress(step: int, total: int, loss: float) -> None:
        updated = BrandVoice.objects.filter(pk=voice_id, status="training").update(
            progress_step=step, progress_total=total, last_loss=loss, updated_at=timezone.now())
        if not updated:
            raise Cancelled()

    return progress
