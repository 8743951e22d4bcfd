from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Measure tone accuracy of prompt-only vs LoRA adapters on the held-out briefs."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "bench"
                                                 / "tone_eval.json"))
        parser.add_argument("--batch-size", type=int, default=32)
        parser.add_argument("--max-new-tokens", type=int, default=110)
        parser.add_argument("--briefs-per-tone", type=int, default=None,
                            help="first N held-out briefs of each tone only (quicker, noisier)")
        parser.add_argument("--tones", default=None,
                            help="comma-separated: write and score only these tones (a probe; "
                                 "nothing is recorded next to the adapters)")
        parser.add_argument("--int8", choices=["auto", "1", "0"], default=None,
                            help="int8 base weights on the CPU (default: COPYWRITER_INT8)")
        parser.add_argument("--no-record", action="store_true",
                            help="leave the adapters' train_meta.json as they are")

    def handle(self, *args: Any, out: str, batch_size: int, max_new_tokens: int,
               briefs_per_tone: int | None, int8: str | None, no_record: bool,
               tones: str | None = None, **opts: Any) -> None:
        from copywriter.ml import config

        if int8 is not None:  # instead of settings.INT8, for the engine this command loads
            config.configure(int8=int8)
        from copywriter.ml.engine import get_engine
        from copywriter.ml.tone_eval import markdown, run

        engine = get_engine()
        result = run(engine, batch_size=batch_size, max_new_tokens=max_new_tokens,
                     briefs_per_tone=briefs_per_tone,
                     only=[t.strip() for t in tones.split(",")] if tones else None,
                     log=lambda m: (self.stdout.write(m), self.stdout.flush()))
        from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

        result["int8"] = any(isinstance(m, Int8Linear) for m in engine.model.modules())
        if no_record or briefs_per_tone is not None or tones:
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            Path(out).write_text(json.dumps(result, indent=2) + "\n")
            self.stdout.write(markdown(result))
            self.stdout.write(f"written to {out} (train_meta.json left as it was)")
            return
        # The figures also go next to each adapter, with its training record.
        from copywriter.ml.model import base_id
        from copywriter.ml.paths import base_adapters_dir

        for tone, row in result["per_tone"].items():
            meta_path = base_adapters_dir(base_id()) / tone / "train_meta.json"
            if meta_path.exists():
                meta = json.loads(meta_path.read_text())
                meta["eval"] = {"tone_accuracy_adapter": row["adapter"]["accuracy"],
                                "tone_accuracy_prompt_only": row["prompt"]["accuracy"],
                                "median_perplexity_adapter": row["adapter"]["perplexity"],
                                "median_perplexity_prompt_only": row["prompt"]["perplexity"],
                                "command": "python manage.py eval_tones"}
                meta_path.write_text(json.dumps(meta, indent=2) + "\n")
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(markdown(result))
        self.stdout.write(f"written to {out}")
