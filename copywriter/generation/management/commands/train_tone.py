from __future__ import annotations

import shlex
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.generation.tones import TRAINED_TONES


class Command(BaseCommand):
    help = ("Train the LoRA adapter of one or more tones from data/tones/ into adapters/<tone>/ "
            "(adapters/<base id>/<tone>/ for a base other than the packaged one).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("tones", nargs="*", help=f"default: all of {', '.join(TRAINED_TONES)}")
        parser.add_argument("--epochs", type=int, default=2)
        parser.add_argument("--rank", type=int, default=16)
        parser.add_argument("--lr", type=float, default=3e-4)
        parser.add_argument("--skip-existing", action="store_true")
        parser.add_argument("--base", default=None,
                            help="the base model to train on: a Hugging Face model folder or a "
                                 ".gguf file (default: COPYWRITER_BASE_MODEL's)")

    def handle(self, *args: Any, tones: list[str], epochs: int, rank: int, lr: float,
               skip_existing: bool, base: str | None, **opts: Any) -> None:
        from copywriter.ml.model import base_id, base_model_dir, pick_device
        from copywriter.ml.paths import BaseModelError, base_adapters_dir
        from copywriter.ml.tonedata import data_hash, load_corpus, tone_split
        from copywriter.ml.train import TrainConfig, train_adapter

        tones = tones or TRAINED_TONES
        unknown = set(tones) - set(TRAINED_TONES)
        if unknown:
            raise CommandError(f"unknown tones {sorted(unknown)}; choose from {TRAINED_TONES}")
        try:
            trained_on = base_id(base)
            model_path = str(base_model_dir(base)) if base else None
        except BaseModelError as exc:
            raise CommandError(str(exc)) from None
        corpus = load_corpus()
        for tone in tones:
            out = base_adapters_dir(trained_on) / tone
            if skip_existing and (out / "adapter_model.safetensors").exists():
                self.stdout.write(f"{tone}: exists, skipped")
                continue
            train = tone_split(corpus, tone, "train")
            held = tone_split(corpus, tone, "heldout")
            if len(train) < 20:
                raise CommandError(f"{tone}: only {len(train)} training examples")

            def progress(step: int, total: int, loss: float, tone: str = tone) -> None:
                if step % 5 == 0 or step == total:
                    self.stdout.write(f"{tone}: step {step}/{total} loss {loss:.3f}")
                    self.stdout.flush()

            record = train_adapter(
                [(e.instruction, e.output) for e in train], out,
                config=TrainConfig(epochs=epochs, rank=rank, lr=lr),
                heldout=[(e.instruction, e.output) for e in held], progress=progress,
                model_path=model_path, base=trained_on, device=pick_device()[0],
                meta={"tone": tone, "data_hash": data_hash(train + held),
                      "command": f"python manage.py train_tone {tone} --epochs {epochs} "
                                 f"--rank {rank} --lr {lr}"
                                 + (f" --base {shlex.quote(base)}" if base else "")})
            self.stdout.write(self.style.SUCCESS(
                f"{tone}: held-out loss {record['heldout_loss_before']} -> "
                f"{record['heldout_loss_after']} in {record['seconds']}s, into {out}"))
