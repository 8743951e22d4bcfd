"""Brand voices: a workspace's own LoRA adapter, trained from samples of its copy."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.utils import timezone

from copywriter.generation.models import BrandVoice
from copywriter.workspaces.models import Membership

MIN_SAMPLES = 20
MAX_SAMPLES = 400
MIN_WORDS = 12
MAX_CHARS = 3000


class VoiceError(Exception):
    pass


def split_samples(text: str) -> list[str]:
    """Samples are separated by a line holding only ``---`` or by blank lines."""
    text = text.replace("\r\n", "\n")
    parts = re.split(r"\n\s*---+\s*\n", text) if re.search(r"^\s*---+\s*$", text, re.M) else \
        re.split(r"\n\s*\n", text)
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
    if not membership.can_write:
        raise VoiceError("Viewers cannot train brand voices.")
    name = name.strip()[:80]
    if not name:
        raise VoiceError("Give the voice a name.")
    problems = check_samples(samples)
    if problems:
        raise VoiceError(" ".join(problems))
    with transaction.atomic():
        voice = BrandVoice.objects.create(workspace=membership.workspace, name=name,
                                          samples=samples, status="queued",
                                          created_by=membership.user)
        from copywriter.generation.tasks import train_voice

        transaction.on_commit(lambda: train_voice.apply_async(args=[voice.pk]))
    return voice


def voice_cancel(*, membership: Membership, voice: BrandVoice) -> None:
    if not membership.can_write:
        raise VoiceError("Viewers cannot cancel training.")
    BrandVoice.objects.filter(pk=voice.pk, status__in=["queued", "training"]).update(
        status="cancelled", updated_at=timezone.now())


def voice_delete(*, membership: Membership, voice: BrandVoice) -> None:
    if not membership.can_write:
        raise VoiceError("Viewers cannot delete brand voices.")
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
