"""Does int8 hurt the language model? Base-model perplexity of the tone corpus' held-out human
texts (as answers to their prompts) under fp32, int8 decoder Linears, and int8 with the head.

    .venv/bin/python bench/int8_perplexity.py

The tone classifier cannot see fluency; this can: the same 64 human texts, three models.
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> None:
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from copywriter.ml.engine import Engine
    from copywriter.ml.model import quantize_int8, serving_model_path
    from copywriter.ml.tone_eval import load_corpus, perplexities

    held = [e for e in load_corpus() if e.split == "heldout"]
    prompts, texts = [e.instruction for e in held], [e.output for e in held]
    for name in ("fp32", "int8", "int8+head"):
        engine = Engine(serving_model_path(), device="cpu")
        if name != "fp32":
            quantize_int8(engine.model, lm_head=name == "int8+head")
        ppl = perplexities(engine, prompts, texts)
        print(f"{name:<10} median perplexity of {len(texts)} held-out human texts: "
              f"{statistics.median(ppl):6.1f}", flush=True)


if __name__ == "__main__":
    main()
