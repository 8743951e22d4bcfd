"""The base model is a setting (issue 15): adapters are keyed by the base they were trained on,
a base without adapters serves its tones by prompt until ``train_tone --base`` trains them, and
the worker then serves them. Proved on a tiny random Qwen2 (a second architecture beside the
tiny Llama that the other tests use), with the real tokenizer."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path

import pytest
import torch
from django.core.management import CommandError, call_command

from copywriter.generation import runner
from copywriter.generation.services import generation_create
from copywriter.generation.tones import tone_line
from copywriter.ml.engine import Session, get_engine
from copywriter.ml.lora import BASE
from copywriter.ml.model import base_id, base_model_dir, serving_model_path
from copywriter.ml.paths import (
    BASE_DIR,
    PACKAGED_BASE_ID,
    BaseModelError,
    adapter_base,
    base_source,
    gguf_cache_dir,
    gguf_path,
)
from tests.support.engines import random_adapter, run_worker
from tests.support.task_corpus import write_corpus

GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns",
        "keyword": "hiking boots"}


@pytest.fixture(scope="session")
def qwen_dir(tmp_path_factory, tiny_model_dir):
    """A 2-layer random Qwen2ForCausalLM, saved with the tiny Llama's (the real) tokenizer."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer, Qwen2Config

    tok = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = Qwen2Config(vocab_size=AutoConfig.from_pretrained(tiny_model_dir).vocab_size,
                         hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id,
                         pad_token_id=tok.pad_token_id)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    assert type(model).__name__ == "Qwen2ForCausalLM"
    target = tmp_path_factory.mktemp("bases") / "Tiny-Qwen2-Instruct"
    model.save_pretrained(target, safe_serialization=True)
    tok.save_pretrained(target)
    return target


@pytest.fixture
def engine_cache():
    get_engine.cache_clear()
    yield
    get_engine.cache_clear()


@pytest.fixture
def qwen_base(qwen_dir, tiny_model_dir, tmp_path, settings, monkeypatch, engine_cache):
    """The tiny Qwen2 as the configured base; adapters of this test's own, holding a witty
    adapter of the packaged base (the tiny Llama here) at the top, as adapters/ ships them."""
    adapters = tmp_path / "adapters"
    random_adapter(tiny_model_dir, adapters / "witty", 1)
    settings.BASE_MODEL = str(qwen_dir)
    settings.MODEL_CACHE = tmp_path / "models" / "smollm2-135m"  # merged models go beside it
    settings.MODEL_PATH = None
    settings.TONE_ADAPTERS = adapters
    settings.DEVICE = "cpu"
    settings.TORCH_THREADS = 1
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(runner, "_warned", set())
    return adapters


@pytest.fixture
def packaged_base(tiny_model_dir, tmp_path, settings, monkeypatch, engine_cache):
    """The packaged base, its safetensors cache being the tiny Llama (nothing to convert)."""
    cache = tmp_path / "models" / "smollm2-135m"
    shutil.copytree(tiny_model_dir, cache)
    settings.BASE_MODEL = None
    settings.MODEL_CACHE = cache
    settings.MODEL_PATH = None
    settings.TONE_ADAPTERS = tmp_path / "adapters"
    settings.DEVICE = "cpu"
    settings.TORCH_THREADS = 1
    monkeypatch.setattr(runner, "_warned", set())
    return tmp_path / "adapters"


def _meta(adapter: Path, **values) -> None:
    (adapter / "train_meta.json").write_text(json.dumps(values))


# --- identity ---------------------------------------------------------------------------------

def test_the_packaged_base_keeps_its_id_and_every_shipped_adapter_names_it(settings):
    settings.BASE_MODEL = None
    assert base_id() == PACKAGED_BASE_ID == "smollm2-135m-instruct"
    assert base_source(gguf_path()) is None  # named by its path, it is still the packaged one
    shipped = [p for p in sorted((BASE_DIR / "adapters").iterdir())
               if (p / "adapter_model.safetensors").exists()]
    assert len(shipped) == 8
    for adapter in shipped:
        assert json.loads((adapter / "train_meta.json").read_text())["base"] == PACKAGED_BASE_ID
        assert adapter_base(adapter) == PACKAGED_BASE_ID


def test_a_model_folder_is_a_base_of_its_own_named_by_its_config(qwen_dir, tiny_model_dir,
                                                                 settings, tmp_path):
    settings.BASE_MODEL = str(qwen_dir)
    assert base_id() == "tiny-qwen2-instruct-qwen2-h64-l2-v49152" == base_id(qwen_dir)
    assert base_model_dir() == qwen_dir
    llama = base_id(tiny_model_dir)
    assert llama.endswith("-llama-h64-l2-v49152") and llama != base_id()
    # The record without a base key, or with an empty one, is the packaged base's; an
    # unreadable one names no base at all (so it matches none).
    _meta(tmp_path, tone="witty")
    assert adapter_base(tmp_path) == PACKAGED_BASE_ID
    (tmp_path / "train_meta.json").write_text("{not json")
    assert adapter_base(tmp_path) == ""


def test_a_base_setting_that_names_no_model_is_refused_clearly(tmp_path, settings):
    settings.BASE_MODEL = str(tmp_path / "missing")
    with pytest.raises(BaseModelError, match="missing: no such file or folder"):
        base_id()
    (tmp_path / "empty").mkdir()
    with pytest.raises(BaseModelError, match="has no config.json"):
        base_source(tmp_path / "empty")
    (tmp_path / "model.bin").write_bytes(b"x")
    with pytest.raises(BaseModelError, match="neither a .gguf file nor a Hugging Face"):
        base_source(tmp_path / "model.bin")
    with pytest.raises(CommandError, match="no such file or folder"):
        call_command("train_tone", "witty", "--base", str(tmp_path / "missing"))
    settings.BASE_MODEL = str(tmp_path / "empty")
    with pytest.raises(CommandError, match="has no config.json"):
        call_command("prepare_model", stdout=io.StringIO())


def test_two_ggufs_never_share_a_cache_and_a_gguf_base_is_converted_into_its_own(
        tmp_path, settings, monkeypatch, qwen_dir):
    settings.MODEL_CACHE = tmp_path / "models" / "smollm2-135m"
    a, b = tmp_path / "a" / "Model.Q4.gguf", tmp_path / "b" / "Model.Q4.gguf"
    for f in (a, b):
        f.parent.mkdir()
        f.write_bytes(b"GGUF")
    assert gguf_cache_dir(a) != gguf_cache_dir(b)  # same name, size and content: other files
    assert gguf_cache_dir(a).parent == tmp_path / "models"
    before = gguf_cache_dir(a)
    a.write_bytes(b"GGUF, replaced")
    assert gguf_cache_dir(a) != before

    converted: list[tuple[Path, Path]] = []

    def convert(cache, *, gguf, force):
        converted.append((cache, gguf))
        shutil.copytree(qwen_dir, cache, dirs_exist_ok=True)
        return cache

    monkeypatch.setattr("copywriter.ml.model.convert_gguf", convert)
    settings.BASE_MODEL = str(a)
    assert base_model_dir() == gguf_cache_dir(a) and converted == [(gguf_cache_dir(a), a)]
    assert base_id() == "model.q4-qwen2-h64-l2-v49152"


# --- serving ----------------------------------------------------------------------------------

def _requests(monkeypatch) -> list:
    """Every row the worker hands the engine."""
    seen: list = []
    real = Session.add

    def add(self, requests):
        seen.extend(requests)
        return real(self, requests)

    monkeypatch.setattr(Session, "add", add)
    return seen


def _generate(cast, ad_template, tone: str) -> None:
    from copywriter.generation.models import Status

    gen = generation_create(membership=cast.bob_m, template=ad_template, fields=GOOD, tone=tone,
                            variants=1, length="short")
    run_worker(engine=get_engine(), first_id=gen.pk)
    gen.refresh_from_db()
    assert gen.status == Status.DONE, gen.error


def test_another_base_serves_tones_by_prompt_until_train_tone_trains_them_on_it(
        qwen_base, qwen_dir, cast, ad_template, sent, settings, monkeypatch, caplog):
    settings.GENERATION_SLOTS = False  # whole prompts: one row per variant
    base = base_id()
    assert base != PACKAGED_BASE_ID
    rows = _requests(monkeypatch)
    caplog.set_level(logging.INFO)

    # Before: the packaged base's witty adapter is not loaded; witty is asked for in the prompt.
    assert sorted(get_engine().stack.names) == [BASE]
    line = tone_line("witty")
    assert line == "Write it in a witty tone: playful, clever wordplay."
    assert runner.adapter_for("witty") == (BASE, None, line)
    _generate(cast, ad_template, "witty")
    assert rows and all(r.adapter == BASE and r.prompt.endswith("\n" + line) for r in rows)
    assert f"no witty adapter for the base '{base}'" in caplog.text

    # Train witty on this base, on a handful of the tone corpus' examples.
    from copywriter.ml import tonedata

    corpus = tonedata.load_corpus()
    few = ([e for e in corpus if e.tone == "witty" and e.split == "train"][:20]
           + [e for e in corpus if e.tone == "witty" and e.split == "heldout"][:2])
    monkeypatch.setattr(tonedata, "load_corpus", lambda: few)
    out = io.StringIO()
    call_command("train_tone", "witty", "--base", str(qwen_dir), "--epochs", "1", "--rank", "4",
                 "--lr", "0.01", stdout=out)
    adapter = qwen_base / base / "witty"
    assert f"into {adapter}" in out.getvalue()
    meta = json.loads((adapter / "train_meta.json").read_text())
    assert meta["base"] == base and meta["steps"] == 3
    assert meta["command"].endswith(f"--base {qwen_dir}")
    assert adapter_base(qwen_base / "witty") == PACKAGED_BASE_ID  # the packaged one's, untouched

    # After: the worker serves witty with its adapter, without the tone line.
    assert runner.adapter_for("witty") == ("witty", adapter, "")
    get_engine.cache_clear()
    engine = get_engine()
    assert sorted(engine.stack.names) == [BASE, "witty"]
    del rows[:]
    _generate(cast, ad_template, "witty")
    assert rows and all(r.adapter == "witty" and line not in r.prompt for r in rows)
    ids = engine.tokenizer(["Write a tagline for hiking boots."], return_tensors="pt")
    with torch.inference_mode():
        engine.stack.route([BASE])
        plain = engine.model(**ids).logits
        engine.stack.route(["witty"])
        witty = engine.model(**ids).logits
    assert (witty - plain).abs().max() > 0  # the trained adapter changes what the model writes


def test_an_adapter_of_another_base_is_refused_even_when_its_shapes_fit(
        qwen_base, qwen_dir, caplog):
    base = base_id()
    bold = random_adapter(qwen_dir, qwen_base / base / "bold", 2)  # made on this very model
    caplog.set_level(logging.WARNING)
    # Its record names no base, which means the packaged one: refused, bold asked for by prompt.
    assert "bold" not in get_engine().stack.names
    assert "was trained on the base 'smollm2-135m-instruct'" in caplog.text
    assert runner.adapter_for("bold") == (BASE, None, tone_line("bold"))
    _meta(bold, base="some-other-base")
    assert runner.adapter_for("bold") == (BASE, None, tone_line("bold"))
    # The control: the same weights, recorded as trained on this base, are served.
    _meta(bold, base=base)
    get_engine.cache_clear()
    assert "bold" in get_engine().stack.names
    assert runner.adapter_for("bold") == ("bold", bold, "")


def test_on_the_packaged_base_its_own_adapters_serve_and_another_base_s_are_refused(
        packaged_base, tiny_model_dir, qwen_dir, cast):
    from copywriter.voices.models import BrandVoice

    random_adapter(tiny_model_dir, packaged_base / "bold", 2)  # no record: the packaged base's
    witty = random_adapter(tiny_model_dir, packaged_base / "witty", 1)
    _meta(witty, base=base_id(qwen_dir))  # same shapes, another base
    assert sorted(get_engine().stack.names) == sorted([BASE, "bold"])
    assert runner.adapter_for("bold") == ("bold", packaged_base / "bold", "")
    assert runner.adapter_for("witty") == (BASE, None, tone_line("witty"))
    with pytest.raises(LookupError, match="no trained adapter for the tone 'friendly'"):
        runner.adapter_for("friendly")  # a shipped adapter missing is an error, as before
    # A brand voice trained on another base: served as the neutral tone, not refused.
    voice_dir = random_adapter(tiny_model_dir, packaged_base.parent / "voice", 3)
    voice = BrandVoice.objects.create(workspace=cast.ws, name="Acme", status="ready",
                                      adapter_path=str(voice_dir))
    assert runner.adapter_for(f"voice-{voice.pk}") == (f"voice-{voice.pk}", voice_dir, "")
    _meta(voice_dir, base=base_id(qwen_dir))
    assert runner.adapter_for(f"voice-{voice.pk}") == (BASE, None, "")


def test_train_task_on_another_base_is_merged_only_into_that_base(qwen_base, qwen_dir, tmp_path):
    base = base_id()
    out = io.StringIO()
    call_command("train_task", str(write_corpus(tmp_path / "tasks.jsonl")), "--base", str(qwen_dir),
                 "--max-steps", "1", "--batch-size", "2", "--max-len", "320", "--rank", "4",
                 "--alpha", "8", "--device", "cpu", stdout=out)
    task = qwen_base / base / "task"
    meta = json.loads((task / "train_meta.json").read_text())
    assert meta["base"] == base and f"--base {qwen_dir}" in meta["command"]
    assert (tmp_path / "checkpoints" / base / "task").is_dir()  # apart from the packaged base's
    merged = tmp_path / "models" / f"{base}-task"
    assert serving_model_path() == str(merged)
    assert "task adapter unchanged" in _prepare()
    # Recorded as another base's: not merged, the merged copy goes, the base is served.
    _meta(task, base=PACKAGED_BASE_ID)
    assert "was trained on the base 'smollm2-135m-instruct'" in _prepare()
    assert serving_model_path() == str(qwen_dir) and not merged.exists()
    with pytest.raises(CommandError, match="not allowed with argument"):
        call_command("train_task", "--base", str(qwen_dir), "--model-path", str(qwen_dir))


def _prepare() -> str:
    out = io.StringIO()
    call_command("prepare_model", stdout=out)
    return out.getvalue()
