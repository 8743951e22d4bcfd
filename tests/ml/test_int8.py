"""int8 base weights for CPU decoding (issue 16) on the tiny random-weight model: the engine
loads and generates on them, the stacked LoRA adapters stay fp32 on top, and the output stays
close to fp32's."""

from __future__ import annotations

import pytest
import torch
from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

from copywriter.ml.engine import Engine, SeqRequest
from copywriter.ml.lora import BASE, MultiLoRALinear, read_peft_adapter
from copywriter.ml.model import int8_wanted, quantize_int8
from tests.support.engines import random_adapter

PROMPTS = ["Write a tagline for a bakery.", "Describe a hiking boot.", "Hello there, friend."]


@pytest.fixture(scope="module")
def adapters(tiny_model_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("int8-adapters")
    return {name: random_adapter(tiny_model_dir, root / name, seed)
            for name, seed in (("witty", 1), ("bold", 2))}


@pytest.fixture(scope="module")
def engines(tiny_model_dir, adapters):
    """(fp32, int8) engines on the same weights; int8 quantized before the adapters are stacked,
    as ``get_engine`` does it."""
    fp32 = Engine(str(tiny_model_dir), device="cpu")
    fp32.set_adapters(adapters)
    int8 = Engine(str(tiny_model_dir), device="cpu")
    assert quantize_int8(int8.model, lm_head=True) == 2 * 7 + 1  # 7 projections x 2 layers + head
    int8.set_adapters(adapters)
    return fp32, int8


def _logits(engine, names, prompts):
    enc = engine.tokenizer(prompts, return_tensors="pt", padding=True)
    engine.stack.route(names)
    positions = (enc["attention_mask"].cumsum(-1) - 1).clamp(min=0)
    with torch.no_grad():
        out = engine.model(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"],
                           position_ids=positions).logits
    return out, enc["attention_mask"].bool()


def test_int8_engine_generates_a_mixed_tone_batch(engines):
    _, int8 = engines
    layer = int8.model.model.layers[0].mlp.gate_proj
    assert isinstance(layer, MultiLoRALinear) and isinstance(layer.base, Int8Linear)
    reqs = [SeqRequest(prompt=p, adapter=a, max_new_tokens=12, temperature=0.0,
                       ignore_eos=True, key=i)
            for i, (p, a) in enumerate(zip(PROMPTS, ["witty", BASE, "bold"], strict=True))]
    together = int8.generate(reqs)
    assert [r.tokens for r in together] == [12, 12, 12]
    assert int8.generate(reqs)[0].token_ids == together[0].token_ids  # deterministic
    # The adapters still steer the int8 model: same prompt, another adapter, other text.
    # (Not compared with each row alone: fbgemm scales the activations per call, over the
    # whole batch, so a row's rounding depends on its batch; see docs/int8.md.)
    swapped = int8.generate([SeqRequest(prompt=PROMPTS[0], adapter="bold", max_new_tokens=12,
                                        temperature=0.0, ignore_eos=True)])[0]
    plain = int8.generate([SeqRequest(prompt=PROMPTS[0], adapter=BASE, max_new_tokens=12,
                                      temperature=0.0, ignore_eos=True)])[0]
    assert len({tuple(together[0].token_ids), tuple(swapped.token_ids),
                tuple(plain.token_ids)}) == 3


def test_lora_delta_on_the_int8_base_is_the_fp32_delta(engines, adapters):
    """The adapter's contribution is computed in fp32 from the unquantized A and B: on the same
    input, wrapped layer minus its int8 base equals x @ A @ (B * scale) to fp32 rounding."""
    _, int8 = engines
    layer = int8.model.model.layers[1].self_attn.v_proj
    assert layer.A.dtype == torch.float32 and layer.B.dtype == torch.float32
    weights = read_peft_adapter(adapters["bold"], "bold")
    a, b = weights.tensors["model.layers.1.self_attn.v_proj"]
    torch.manual_seed(0)
    x = torch.randn(3, 5, layer.A.shape[1])
    int8.stack.route(["bold"] * 3)
    with torch.no_grad():
        delta = layer(x) - layer.base(x)
    expected = (x @ a) @ (b * weights.scale)
    assert expected.abs().max() > 0.1  # the adapter matters at this scale
    assert torch.allclose(delta, expected, atol=1e-5, rtol=1e-5)


def test_int8_logits_stay_close_to_fp32_and_keep_the_adapters_effect(engines):
    """Tolerance: int8 error must be small next to what a tone adapter changes (else the tone
    would drown in quantization noise), and the greedy pick must mostly survive.

    Per-channel int8 weights round each weight by at most half a step (max|w|/254) and fbgemm's
    dynamic activations use 7 bits on AVX2 (``reduce_range``): about 1% relative error per
    matmul, 1.5-2.5% measured through 2 layers and the head. So: relative L2 error under 5%,
    under a quarter of the adapter's own relative effect, and the same argmax at 90% of
    positions. One row per forward: fbgemm takes one activation scale per call, so in a batch a
    row's error depends on its batch-mates (docs/int8.md); that is measured in bench/int8.py.
    """
    fp32, int8 = engines
    for row, name in enumerate(["witty", BASE, "bold"]):
        ref, valid = _logits(fp32, [name], PROMPTS[row:row + 1])
        got, _ = _logits(int8, [name], PROMPTS[row:row + 1])
        ref, got = ref[valid], got[valid]
        error = float((got - ref).norm() / ref.norm())
        assert error < 0.05, (name, error)
        agree = float((got.argmax(-1) == ref.argmax(-1)).float().mean())
        assert agree >= 0.9, (name, agree)
        if name != BASE:
            plain, _ = _logits(fp32, [BASE], PROMPTS[row:row + 1])
            effect = float((ref - plain[valid]).norm() / ref.norm())
            assert error < effect / 4, (name, error, effect)


def test_lm_head_can_stay_fp32_and_tied_while_the_embeddings_never_change(tiny_model_dir):
    engine = Engine(str(tiny_model_dir), device="cpu")
    embed = engine.model.model.embed_tokens.weight
    before = embed.detach().clone()
    assert quantize_int8(engine.model, lm_head=False) == 2 * 7
    assert type(engine.model.lm_head) is torch.nn.Linear
    assert engine.model.lm_head.weight is embed  # still tied: no second copy of 49k x d
    assert engine.model.model.embed_tokens.weight is embed and torch.equal(embed, before)
    quantize_int8(engine.model, lm_head=True)
    assert isinstance(engine.model.lm_head, Int8Linear)
    assert embed.dtype == torch.float32 and torch.equal(embed, before)


@pytest.mark.parametrize(("value", "device", "expected"), [
    ("1", "cpu", True), ("on", "cpu", True), ("0", "cpu", False), ("off", "cpu", False),
    ("1", "cuda", False), ("1", "cuda:0", False)])
def test_int8_setting_is_read_as_on_off_and_never_on_cuda(value, device, expected):
    assert int8_wanted(value, device) is expected


def test_int8_setting_auto_follows_the_cpu_default_and_bad_values_are_refused(monkeypatch):
    import copywriter.ml.model as model

    for default in (True, False):
        monkeypatch.setattr(model, "INT8_CPU_DEFAULT", default)
        assert model.int8_wanted(None, "cpu") is default
        assert model.int8_wanted("auto", "cpu") is default
        assert model.int8_wanted("", "cuda") is False
    with pytest.raises(ValueError, match="COPYWRITER_INT8"):
        model.int8_wanted("maybe", "cpu")


@pytest.mark.parametrize(("value", "quantized"), [("1", True), ("0", False)])
def test_the_worker_engine_follows_copywriter_int8(settings, tiny_model_dir, adapters,
                                                   tmp_path, value, quantized):
    from copywriter.ml import engine as engine_module

    shipped = tmp_path / "adapters"
    shipped.mkdir()
    for name, path in adapters.items():
        (shipped / name).symlink_to(path)
    settings.MODEL_PATH = str(tiny_model_dir)
    settings.TONE_ADAPTERS = shipped
    settings.DEVICE = "cpu"
    settings.TORCH_THREADS = torch.get_num_threads()
    settings.INT8 = value
    engine_module.get_engine.cache_clear()
    try:
        engine = engine_module.get_engine()
        base = engine.model.model.layers[0].self_attn.q_proj.base
        assert isinstance(base, Int8Linear) is quantized
        assert sorted(engine.stack.names) == sorted([BASE, "bold", "witty"])
        result = engine.generate([SeqRequest(prompt="Hi", adapter="witty", max_new_tokens=4,
                                             temperature=0.0, ignore_eos=True)])[0]
        assert result.tokens == 4
    finally:
        engine_module.get_engine.cache_clear()
