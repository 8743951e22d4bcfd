"""Train the task adapter (issue 15) on the task corpus: every template's briefs and the expert
copy, so the base model learns the job itself; ``prepare_model`` then merges it into the base."""

from __future__ import annotations

import hashlib
import json
import shlex
import time
from collections import Counter
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.catalog.schema import load_library

DEFAULTS = {"rank": 16, "alpha": 32, "epochs": 2, "batch_size": 8, "max_len": 1024, "lr": 2e-4,
            "warmup_steps": 10, "seed": 1234, "checkpoint_every": 25, "log_every": 10}


def _eta(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


class Command(BaseCommand):
    help = ("Train the task LoRA adapter from data/tasks/*.jsonl (train split, examples without "
            "problems) into adapters/task/; `prepare_model` merges it into the base weights.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="*", help="task corpus files (default: data/tasks/*.jsonl)")
        parser.add_argument("--rank", type=int, default=DEFAULTS["rank"])
        parser.add_argument("--alpha", type=int, default=DEFAULTS["alpha"])
        parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"])
        parser.add_argument("--max-steps", type=int, default=None,
                            help="stop here (the learning rate decays to 0 by then)")
        parser.add_argument("--batch-size", type=int, default=DEFAULTS["batch_size"],
                            help="packed rows per step")
        parser.add_argument("--max-len", type=int, default=DEFAULTS["max_len"],
                            help="tokens per packed row (a longer example is cut)")
        parser.add_argument("--lr", type=float, default=DEFAULTS["lr"])
        parser.add_argument("--warmup-steps", type=int, default=DEFAULTS["warmup_steps"])
        parser.add_argument("--seed", type=int, default=DEFAULTS["seed"])
        parser.add_argument("--no-pack", action="store_true", help="one example per row")
        parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto",
                            help="auto: cuda (bf16 autocast) when there is a GPU, else the CPU")
        parser.add_argument("--checkpoint-dir", default=None,
                            help="default: <data dir>/checkpoints/task")
        parser.add_argument("--checkpoint-every", type=int, default=DEFAULTS["checkpoint_every"])
        parser.add_argument("--resume", action="store_true",
                            help="continue from the newest checkpoint in --checkpoint-dir")
        parser.add_argument("--log-every", type=int, default=DEFAULTS["log_every"])
        parser.add_argument("--out", default=None,
                            help="default: adapters/task (adapters/<base id>/task for a base "
                                 "other than the packaged one)")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--model-path", default=None,
                           help="base model folder (default: the configured base; never the "
                                "merged one)")
        which.add_argument("--base", default=None,
                           help="another base model to train on: a Hugging Face model folder or "
                                "a .gguf file (default: COPYWRITER_BASE_MODEL's)")

    def handle(self, *args: Any, files: list[str], **o: Any) -> None:
        from copywriter.ml.model import base_id, base_model_dir
        from copywriter.ml.paths import PACKAGED_BASE_ID, BaseModelError, task_adapter_dir
        from copywriter.quality.tasks import ROOT, TASKS_DIR, check, read, split_of

        for name in ("rank", "alpha", "epochs", "batch_size", "max_len", "checkpoint_every",
                     "log_every"):
            if o[name] < 1:
                raise CommandError(f"--{name.replace('_', '-')} must be at least 1")
        if o["max_steps"] is not None and o["max_steps"] < 1:
            raise CommandError("--max-steps must be at least 1")
        if not o["lr"] > 0:
            raise CommandError("--lr must be above 0")
        paths = [Path(f) for f in files] or sorted(TASKS_DIR.glob("*.jsonl"))
        missing = [str(p) for p in paths if not p.is_file()]
        if missing:
            raise CommandError(f"no such corpus file: {', '.join(missing)}")
        if not paths:
            raise CommandError(f"no task corpus: {TASKS_DIR} holds no *.jsonl file")
        device = self._device(o["device"])
        try:
            trained_on = base_id(o["base"])
            model_path = str(base_model_dir(o["base"])) if o["base"] else o["model_path"]
        except BaseModelError as exc:
            raise CommandError(str(exc)) from None
        # Another base's checkpoints apart: with the same tokenizer and data they would pass
        # for this run's.
        checkpoints = Path(settings.DATA_DIR) / "checkpoints"
        if trained_on != PACKAGED_BASE_ID:
            checkpoints /= trained_on

        good, _bad = load_library(ROOT / "templates_lib")
        templates = {t.id: t for t in good}
        examples = read(paths)
        check(examples, templates)
        ok = [e for e in examples if not e.problems]
        splits = Counter(split_of(e.id, e.template) for e in ok)
        train = [e for e in ok if split_of(e.id, e.template) == "train"]
        held = [e for e in ok if split_of(e.id, e.template) == "heldout"]
        if not train:
            raise CommandError(
                f"no training examples in {', '.join(str(p) for p in paths)}: {len(examples)} read, "
                f"{len(examples) - len(ok)} with problems (`python -m copywriter.quality.tasks` "
                f"lists them), {splits['heldout']} in the held-out split, "
                f"{splits['heldout_template']} of held-out templates")

        def pair(e: Any) -> tuple[str, str]:
            # The prompt exactly as generation_create builds it (every field of the template,
            # missing ones empty) before the engine wraps it in chat_prompt with SYSTEM_PROMPT.
            tpl = templates[e.template]
            return tpl.render({f.name: e.fields.get(f.name, "") for f in tpl.fields}), e.output.strip()

        self.stdout.write(f"{len(train)} training examples of {len({e.template for e in train})} "
                          f"templates, {len(held)} held out; {len(examples) - len(ok)} with problems "
                          "left out")
        self._train([pair(e) for e in train], [pair(e) for e in held], train, held, paths,
                    device, o, out=Path(o["out"]) if o["out"] else task_adapter_dir(trained_on),
                    checkpoint_dir=Path(o["checkpoint_dir"]) if o["checkpoint_dir"]
                    else checkpoints / "task", model_path=model_path, base=trained_on)

    def _device(self, choice: str) -> str:
        import torch

        if choice == "cuda" and not torch.cuda.is_available():
            raise CommandError("--device cuda: torch sees no CUDA device here")
        if choice == "auto":
            return "cuda" if torch.cuda.is_available() else "cpu"
        return choice

    def _train(self, pairs: list[tuple[str, str]], held_pairs: list[tuple[str, str]],
               train: list[Any], held: list[Any], paths: list[Path], device: str,
               o: dict[str, Any], *, out: Path, checkpoint_dir: Path, model_path: str | None,
               base: str) -> None:
        from copywriter.ml.train import Checkpoints, ResumeError, TrainConfig, train_adapter

        config = TrainConfig(rank=o["rank"], alpha=o["alpha"], lr=o["lr"], epochs=o["epochs"],
                             batch_size=o["batch_size"], max_len=o["max_len"], seed=o["seed"],
                             warmup_steps=o["warmup_steps"], pack=not o["no_pack"],
                             max_steps=o["max_steps"])
        clock: dict[str, float] = {}

        def progress(step: int, total: int, loss: float) -> None:
            now = time.monotonic()
            if "step" not in clock:  # the rate counts from this process's first step (a resumed
                clock.update(step=step, time=now, first=now - started)  # run starts late)
            if step % o["log_every"] and step != total:
                return
            done = step - clock["step"]
            # Until a second step is done, the first one's time (with the model load) is all
            # there is to go on.
            rate = done / max(1e-9, now - clock["time"]) if done else 1 / max(1e-9, clock["first"])
            self.stdout.write(f"step {step}/{total} loss {loss:.3f} {rate:.2f} steps/s "
                              f"ETA {_eta((total - step) / max(rate, 1e-9))}")
            self.stdout.flush()

        started = time.monotonic()
        try:
            record = train_adapter(
                pairs, out, config=config, heldout=held_pairs, model_path=model_path,
                base=base, device=device, progress=progress, log=self.stdout.write,
                checkpoints=Checkpoints(checkpoint_dir, every=o["checkpoint_every"],
                                        resume=o["resume"]),
                meta={"adapter": "task", "command": self._command(paths, o),
                      "data_hash": data_hash(train), "heldout_hash": data_hash(held),
                      "templates": len({e.template for e in train}),
                      "heldout_templates": len({e.template for e in held})})
        except ResumeError as exc:
            raise CommandError(str(exc)) from None
        except KeyboardInterrupt:
            raise CommandError(f"interrupted; add --resume (--checkpoint-dir {checkpoint_dir}) to go "
                               "on from the newest checkpoint") from None
        self.stdout.write(self.style.SUCCESS(
            f"task adapter in {out}: {record['steps']} steps, held-out loss "
            f"{record['heldout_loss_before']} -> {record['heldout_loss_after']} in "
            f"{record['seconds']}s on {record['device']}; run `python manage.py prepare_model` "
            "to merge it"))

    def _command(self, paths: list[Path], o: dict[str, Any]) -> str:
        """The command line that repeats this run (every setting spelled out)."""
        from copywriter.quality.tasks import ROOT, TASKS_DIR

        words = ["python", "manage.py", "train_task"]
        if sorted(paths) != sorted(TASKS_DIR.glob("*.jsonl")):
            words += [str(p.resolve().relative_to(ROOT)) if p.resolve().is_relative_to(ROOT)
                      else str(p) for p in paths]
        for name in ("rank", "alpha", "epochs", "max_steps", "batch_size", "max_len", "lr",
                     "warmup_steps", "seed", "device", "checkpoint_dir", "checkpoint_every",
                     "out", "model_path", "base"):
            if o[name] is not None:
                words += [f"--{name.replace('_', '-')}", str(o[name])]
        words += ["--no-pack"] if o["no_pack"] else []
        words += ["--resume"] if o["resume"] else []
        return shlex.join(words)


def data_hash(examples: list[Any]) -> str:
    """sha256 of the examples as trained on (id, template, fields, output), in id order."""
    rows = sorted(({"id": e.id, "template": e.template, "fields": e.fields, "output": e.output}
                   for e in examples), key=lambda r: r["id"])
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()
