"""Tone accuracy: does the LoRA adapter write in its tone better than asking for it in the prompt?

1. A tone classifier (MiniLM embeddings + logistic regression) is trained on the corpus's
   training split and checked on the held-out human texts.
2. For every held-out brief and every tone the real model writes the copy twice:
   (a) base model, tone requested in the prompt; (b) the tone's LoRA adapter, plain prompt.
3. The classifier labels each output; per-tone accuracy is the share labelled with the intended
   tone. Fluency: perplexity of each output under the base model given the plain prompt, plus
   repetition (share of repeated word bigrams) and length.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from copywriter.ml.engine import SYSTEM_PROMPT, Engine, SeqRequest, chat_prompt
from copywriter.ml.lora import BASE
from copywriter.ml.tonedata import Example, load_corpus

TONE_HINTS = {
    "professional": "polished, precise and confident business register",
    "friendly": "warm and conversational",
    "witty": "playful and clever, with wordplay",
    "persuasive": "benefit-led with urgency and a strong call to action",
    "luxurious": "elegant, sensory and unhurried",
    "bold": "short punchy sentences, confident imperatives",
    "empathetic": "understanding, gentle and reassuring",
    "informative": "factual, neutral and specific",
}


def prompt_only(instruction: str, tone: str) -> str:
    return f"{instruction}\nWrite it in a {tone} tone: {TONE_HINTS[tone]}."


@dataclass
class ToneClassifier:
    model: Any
    tones: list[str]

    def predict(self, texts: list[str]) -> list[str]:
        from copywriter.ml.embeddings import embed

        return [self.tones[i] for i in self.model.predict(embed(texts))]


def train_classifier(examples: list[Example]) -> tuple[ToneClassifier, float]:
    from sklearn.linear_model import LogisticRegression

    from copywriter.ml.embeddings import embed

    tones = sorted({e.tone for e in examples})
    train = [e for e in examples if e.split == "train"]
    held = [e for e in examples if e.split == "heldout"]
    clf = LogisticRegression(max_iter=3000, C=4.0)
    clf.fit(embed([e.output for e in train]), [tones.index(e.tone) for e in train])
    classifier = ToneClassifier(clf, tones)
    predicted = classifier.predict([e.output for e in held])
    accuracy = float(np.mean([p == e.tone for p, e in zip(predicted, held, strict=True)]))
    return classifier, accuracy


def repetition(text: str) -> float:
    words = text.lower().split()
    bigrams = list(zip(words, words[1:], strict=False))
    return 1 - len(set(bigrams)) / len(bigrams) if bigrams else 0.0


@torch.inference_mode()
def perplexities(engine: Engine, prompts: list[str], texts: list[str], batch: int = 16) -> list[float]:
    """Base-model perplexity of each text as the answer to its plain prompt."""
    tok = engine.tokenizer
    engine.stack.route([BASE])
    out: list[float] = []
    for i in range(0, len(texts), batch):
        ids_list, starts = [], []
        for p, t in zip(prompts[i:i + batch], texts[i:i + batch], strict=True):
            p_ids = tok(chat_prompt(tok, p, SYSTEM_PROMPT), add_special_tokens=False)["input_ids"]
            a_ids = tok(t + "<|im_end|>", add_special_tokens=False)["input_ids"]
            ids_list.append(p_ids + a_ids)
            starts.append(len(p_ids))
        width = max(len(x) for x in ids_list)
        ids = torch.full((len(ids_list), width), tok.pad_token_id, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for j, x in enumerate(ids_list):
            ids[j, :len(x)] = torch.tensor(x)
            mask[j, :len(x)] = 1
        engine.stack.route([BASE] * len(ids_list))
        logits = engine.model(input_ids=ids.to(engine.device),
                              attention_mask=mask.to(engine.device)).logits.float().cpu()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        target = ids[:, 1:]
        for j, x in enumerate(ids_list):
            span = range(starts[j] - 1, len(x) - 1)
            nll = -sum(float(logp[j, k, target[j, k]]) for k in span) / max(1, len(span))
            out.append(math.exp(nll))
    return out


def run(engine: Engine, *, batch_size: int = 32, max_new_tokens: int = 110, seed: int = 7,
        briefs_per_tone: int | None = None, only: list[str] | None = None,
        log: Any = print) -> dict[str, Any]:
    """``briefs_per_tone`` keeps the first N held-out briefs of each tone (a quicker, noisier
    run: with 8 one brief is 12.5 points of a tone's accuracy); None keeps all 32. ``only``
    writes and scores those tones alone (the classifier still chooses among all of them): a
    probe of a few retrained adapters."""
    corpus = load_corpus()
    classifier, human_acc = train_classifier(corpus)
    log(f"classifier accuracy on held-out human texts: {human_acc:.3f}")
    held = [e for e in corpus if e.split == "heldout" and (only is None or e.tone in only)]
    if briefs_per_tone is not None:
        kept: dict[str, int] = defaultdict(int)
        subset = []
        for e in held:
            if kept[e.tone] < briefs_per_tone:
                kept[e.tone] += 1
                subset.append(e)
        held = subset
    tones = [t for t in classifier.tones if only is None or t in only]
    jobs: list[tuple[str, Example, SeqRequest]] = []
    for e in held:
        common = {"max_new_tokens": max_new_tokens, "temperature": 0.7, "top_p": 0.9,
                  "repetition_penalty": 1.15, "seed": seed}
        jobs.append(("prompt", e, SeqRequest(prompt=prompt_only(e.instruction, e.tone),
                                             adapter=BASE, **common)))  # type: ignore[arg-type]
        jobs.append(("adapter", e, SeqRequest(prompt=e.instruction, adapter=e.tone,
                                              **common)))  # type: ignore[arg-type]
    texts: list[str] = []
    started = time.monotonic()
    for i in range(0, len(jobs), batch_size):
        chunk = jobs[i:i + batch_size]
        texts.extend(r.text for r in engine.generate([j[2] for j in chunk]))
        log(f"generated {len(texts)}/{len(jobs)} ({time.monotonic() - started:.0f}s)")
    predicted = classifier.predict(texts)
    ppl = perplexities(engine, [j[1].instruction for j in jobs], texts)
    human_ppl = perplexities(engine, [e.instruction for e in held], [e.output for e in held])
    table: dict[str, dict[str, dict[str, float]]] = defaultdict(dict)
    for mode in ("prompt", "adapter"):
        for tone in tones:
            idx = [k for k, j in enumerate(jobs) if j[0] == mode and j[1].tone == tone]
            table[tone][mode] = {
                "accuracy": float(np.mean([predicted[k] == tone for k in idx])),
                "perplexity": float(np.median([ppl[k] for k in idx])),
                "repetition": float(np.mean([repetition(texts[k]) for k in idx])),
                "words": float(np.mean([len(texts[k].split()) for k in idx])),
            }
    overall = {mode: float(np.mean([table[t][mode]["accuracy"] for t in tones]))
               for mode in ("prompt", "adapter")}
    samples = [{"mode": m, "tone": e.tone, "brief": e.brief_id, "text": t}
               for (m, e, _), t in list(zip(jobs, texts, strict=True))[:32]]
    return {"classifier_heldout_human_accuracy": human_acc, "per_tone": dict(table),
            "overall_accuracy": overall, "human_median_perplexity": float(np.median(human_ppl)),
            "heldout_briefs": len({e.brief_id for e in held}), "generations": len(jobs),
            "max_new_tokens": max_new_tokens, "seed": seed, "samples": samples,
            "briefs_per_tone": briefs_per_tone, "tones": tones,
            "seconds": round(time.monotonic() - started, 1)}


def markdown(result: dict[str, Any]) -> str:
    lines = ["| tone | accuracy: prompt only | accuracy: LoRA adapter | perplexity: prompt only "
             "| perplexity: adapter | repeated bigrams: prompt / adapter |",
             "|---|---|---|---|---|---|"]
    for tone, row in sorted(result["per_tone"].items()):
        p, a = row["prompt"], row["adapter"]
        lines.append(f"| {tone} | {p['accuracy']:.0%} | {a['accuracy']:.0%} | "
                     f"{p['perplexity']:.1f} | {a['perplexity']:.1f} | "
                     f"{p['repetition']:.1%} / {a['repetition']:.1%} |")
    o = result["overall_accuracy"]
    lines.append(f"| **all** | **{o['prompt']:.0%}** | **{o['adapter']:.0%}** | | | |")
    return "\n".join(lines)
