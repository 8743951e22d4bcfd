"""Engines for the worker path without a real model, the worker loop in this process, and random
LoRA adapters for the tiny model."""

from __future__ import annotations


class GenerateOnlyEngine:
    """For test engines that script ``generate`` only: the worker pipeline runs an engine
    *session*; here each session step writes every queued row to the end in one ``generate``
    call (so a rewrite round is one call, as the scripted texts expect)."""

    def session(self, *, system=None):
        engine = self

        class Session:
            live = 0

            def __init__(self):
                self.waiting: list = []

            @property
            def pending(self) -> int:
                return len(self.waiting)

            def add(self, requests):
                self.waiting += requests

            def step(self):
                requests, self.waiting = self.waiting, []
                return list(engine.generate(requests)) if requests else []

            def partial(self):
                return []

            def cancel(self, keys):
                self.waiting = [r for r in self.waiting if r.key not in keys]

        return Session()


class ScriptedRounds(GenerateOnlyEngine):
    """Writes ``texts[n]`` in the n-th engine call (a rewrite round is one call), the last one
    from then on."""

    adapter_paths: dict = {}

    def __init__(self, texts):
        self.texts, self.calls = texts, 0

    def ensure_adapters(self, paths):  # pragma: no cover - neutral tone needs none
        pass

    def generate(self, requests, on_progress=None):
        from copywriter.ml.engine import SeqResult

        text = self.texts[min(self.calls, len(self.texts) - 1)]
        self.calls += 1
        return [SeqResult(key=r.key, text=text, tokens=len(text.split()), finish_reason="stop")
                for r in requests]


def serve_one(gen, texts):
    """Run the worker on ``gen`` with an engine writing ``texts`` round by round; the stored
    variant (the generation must finish done) and the engine."""
    from copywriter.generation.models import Status

    engine = ScriptedRounds(texts)
    run_worker(engine=engine, first_id=gen.pk)
    gen.refresh_from_db()
    assert gen.status == Status.DONE, gen.error
    return gen.results.get(), engine


def run_worker(*, engine, first_id=None, static=None):
    """The worker path in this process until the queue is empty (copywriter.pipeline.local)."""
    from copywriter.pipeline.local import run_queued

    return run_queued(engine=engine, first_id=first_id, me="host:1", static=static)


def random_adapter(model_dir, out, seed):
    """A peft LoRA adapter with random weights (scaled up so it matters at the tiny model's
    scale) on every projection, saved to ``out``."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    torch.manual_seed(seed)
    base = AutoModelForCausalLM.from_pretrained(model_dir)
    cfg = LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "k_proj", "v_proj", "o_proj",
                                                        "gate_proj", "up_proj", "down_proj"],
                     init_lora_weights=False, task_type="CAUSAL_LM")
    peft_model = get_peft_model(base, cfg)
    with torch.no_grad():
        for name, p in peft_model.named_parameters():
            if "lora_" in name:
                p.mul_(3.0)
    peft_model.save_pretrained(out)
    return out
