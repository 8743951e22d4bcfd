"""Worker side of brand-voice training (imports torch through copywriter.ml)."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils import timezone

from copywriter.core import scopes
from copywriter.voices.models import BrandVoice
from copywriter.voices.services import instruction_for, progress_writer

log = logging.getLogger(__name__)


def voice_similarity(generated: list[str], reference: list[str]) -> float:
    """Mean cosine similarity of generated texts to the centroid of the held-out samples."""
    from copywriter.ml.embeddings import embed

    ref = embed(reference).mean(axis=0)
    ref = ref / np.linalg.norm(ref)
    return float((embed(generated) @ ref).mean())


def run(voice_id: int) -> str:
    from copywriter.ml.engine import Engine, SeqRequest
    from copywriter.ml.lora import BASE
    from copywriter.ml.train import Cancelled, TrainConfig, train_adapter

    claimed = BrandVoice.objects.filter(pk=voice_id, status__in=["queued", "training"]).update(
        status="training", progress_step=0, error="", updated_at=timezone.now())
    if not claimed:
        return "nothing to do"
    voice = BrandVoice.objects.get(pk=voice_id)
    samples = list(voice.samples)
    random.Random(voice_id).shuffle(samples)
    n_held = max(4, len(samples) // 5)
    held, train = samples[:n_held], samples[n_held:]
    pairs = [(instruction_for(s), s) for s in train]
    held_pairs = [(instruction_for(s), s) for s in held]
    out = Path(settings.ADAPTER_DIR) / f"voice-{voice.pk}"
    model_path = settings.MODEL_PATH
    try:
        record = train_adapter(pairs, out, config=TrainConfig(epochs=3, lr=4e-4),
                               heldout=held_pairs, model_path=model_path,
                               progress=progress_writer(voice_id),
                               meta={"voice_id": voice.pk, "workspace_id": voice.workspace_id})
    except Cancelled:
        log.info("voice %s cancelled", voice_id)
        return "cancelled"
    except Exception as exc:
        BrandVoice.objects.filter(pk=voice_id).update(
            status="failed", error=f"Training failed: {exc}", updated_at=timezone.now())
        raise
    # Held-out voice similarity: the base model and the new adapter write for the held-out briefs.
    engine = Engine(model_path)
    engine.set_adapters({"voice": out})
    reqs = [SeqRequest(prompt=i, adapter=a, max_new_tokens=120, temperature=0.7, seed=11, key=k)
            for k, (i, _) in enumerate(held_pairs) for a in (BASE, "voice")]
    texts = [r.text or "." for r in engine.generate(reqs)]
    before = voice_similarity(texts[0::2], held)
    after = voice_similarity(texts[1::2], held)
    metrics = {"similarity_before": round(before, 3), "similarity_after": round(after, 3),
               "train_samples": len(train), "heldout_samples": len(held),
               "heldout_loss_before": record["heldout_loss_before"],
               "heldout_loss_after": record["heldout_loss_after"]}
    updated = BrandVoice.objects.filter(pk=voice_id, status="training").update(
        status="ready", adapter_path=str(out), metrics=metrics, updated_at=timezone.now())
    if updated:
        scopes.invalidate(scopes.voices(voice.workspace_id))  # a new tone in the form
    return "ready" if updated else "cancelled"
