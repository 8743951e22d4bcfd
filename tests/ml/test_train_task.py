"""The task adapter's training path (issue 15) on the tiny random model: packing, the command,
checkpoints and resume, merging into the base and prepare_model's re-merge."""

from __future__ import annotations

import functools
import io
import json
import math
import random
import shutil
from pathlib import Path

import pytest
import torch
from django.core.management import CommandError, call_command

from copywriter.ml import train
from copywriter.ml.model import load_tokenizer, merge_lora
from copywriter.quality.tasks import split_of
from tests.support.engines import random_adapter
from tests.support.task_corpus import MENU, TEMPLATE, ids_in, write_corpus


@functools.cache
def _pairs() -> list[tuple[str, str]]:
    from copywriter.catalog.schema import load_library
    from copywriter.quality.tasks import ROOT

    tpl = {t.id: t for t in load_library(ROOT / "templates_lib")[0]}[TEMPLATE]
    return [(tpl.render(f), o) for f, o in MENU]


def _adapter_tensors(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(str(folder / "adapter_model.safetensors"))


def test_packing_puts_every_answer_in_once_with_labels_only_on_answers(tiny_model_dir):
    tok = load_tokenizer(str(tiny_model_dir))
    max_len = 320  # two of the menu examples (about 150 tokens each) fit in a row
    long_pair = ("Describe the dish. " * 80, "Long answer. " * 10)  # longer than a row: cut
    pairs = _pairs() + [long_pair]
    whole = [train.encode(tok, i, o, 1 << 30) for i, o in pairs]
    encoded = [train.encode(tok, i, o, max_len) for i, o in pairs]
    assert len(whole[-1][0]) > max_len and len(encoded[-1][0]) == max_len
    rows = train.pack_rows([len(ids) for ids, _ in encoded], list(range(len(encoded))), max_len)
    assert len(rows) < len(encoded)  # something was packed
    assert sorted(i for row in rows for i in row) == list(range(len(encoded)))
    batch = train.collate(encoded, rows, tok.pad_token_id)
    assert batch["input_ids"].shape[1] <= max_len
    for r, row in enumerate(rows):
        ids, labels = batch["input_ids"][r], batch["labels"][r]
        length = int(batch["attention_mask"][r].sum())
        assert length == sum(len(encoded[i][0]) for i in row) <= max_len
        # The labelled tokens, in order, are exactly the answers of the row's examples.
        answers = [t for i in row for t in encoded[i][1] if t != -100]
        assert labels[labels != -100].tolist() == answers
        assert torch.equal(ids[labels != -100], labels[labels != -100])
        assert (labels[length:] == -100).all()
    # Each short example's whole answer (ending with <|im_end|>) is there once, its prompt unlabelled.
    end = tok.convert_tokens_to_ids("<|im_end|>")
    for (_i, o), (ids, labels) in zip(pairs[:-1], encoded[:-1], strict=True):
        answer = tok(o + "<|im_end|>", add_special_tokens=False)["input_ids"]
        assert [t for t in labels if t != -100] == answer and answer[-1] == end
        assert labels[:len(ids) - len(answer)] == [-100] * (len(ids) - len(answer))


def test_plan_is_the_same_for_the_same_seed_and_stops_at_max_steps():
    encoded = [([1] * n, [-100] * n) for n in (30, 50, 20, 70, 10, 40, 60)]
    cfg = train.TrainConfig(epochs=3, batch_size=2, max_len=100, pack=True, seed=7)
    plan, rows_per_epoch = train.plan_batches(encoded, cfg)
    assert plan == train.plan_batches(encoded, cfg)[0]
    assert plan != train.plan_batches(encoded, train.TrainConfig(**{**cfg.__dict__, "seed": 8}))[0]
    assert len(plan) == sum(math.ceil(r / 2) for r in rows_per_epoch)
    capped = train.TrainConfig(**{**cfg.__dict__, "max_steps": 2})
    assert train.plan_batches(encoded, capped)[0] == plan[:2]
    # Unpacked (the tones): one example a row, in the order the tone adapters were trained with
    # (the global generator seeded once, shuffled every epoch).

    unpacked = train.TrainConfig(**{**cfg.__dict__, "pack": False})
    random.seed(unpacked.seed)
    expected = []
    for _epoch in range(3):
        order = list(range(len(encoded)))
        random.shuffle(order)
        expected += [[[i] for i in order[j:j + 2]] for j in range(0, len(order), 2)]
    assert train.plan_batches(encoded, unpacked)[0] == expected


def test_three_step_run_writes_the_adapter_and_its_record(tiny_model_dir, tmp_path):
    from copywriter.quality.management.commands.train_task import data_hash
    from copywriter.quality.tasks import read

    corpus = write_corpus(tmp_path / "tasks.jsonl")
    out = io.StringIO()
    call_command("train_task", str(corpus), "--model-path", str(tiny_model_dir), "--max-steps", "3",
                 "--batch-size", "2", "--max-len", "320", "--rank", "4", "--alpha", "8",
                 "--out", str(tmp_path / "task"), "--checkpoint-dir", str(tmp_path / "ck"),
                 "--log-every", "1", "--device", "cpu", stdout=out)
    text = out.getvalue()
    assert "6 training examples of 1 templates, 2 held out" in text
    for step in (1, 2, 3):
        assert f"step {step}/3 loss " in text
    assert "steps/s ETA " in text
    tensors = _adapter_tensors(tmp_path / "task")
    assert tensors and all(t.dtype == torch.float16 for t in tensors.values())
    config = json.loads((tmp_path / "task" / "adapter_config.json").read_text())
    assert config["r"] == 4 and config["lora_alpha"] == 8
    assert set(config["target_modules"]) == {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj",
                                             "up_proj", "down_proj"}
    meta = json.loads((tmp_path / "task" / "train_meta.json").read_text())
    assert meta["command"].startswith("python manage.py train_task ")
    assert "--max-steps 3" in meta["command"] and "--batch-size 2" in meta["command"]
    examples = read([corpus])
    trained = [e for e in examples if split_of(e.id, e.template) == "train"]
    assert meta["data_hash"] == data_hash(trained) != data_hash(examples)
    assert (meta["examples"], meta["templates"], meta["heldout_examples"]) == (6, 1, 2)
    assert meta["steps"] == 3 and len(meta["losses"]) == 3
    assert all(math.isfinite(x) for x in meta["losses"])
    assert math.isfinite(meta["heldout_loss_before"]) and math.isfinite(meta["heldout_loss_after"])
    assert meta["heldout_loss_before"] != meta["heldout_loss_after"]
    assert meta["device"] == "cpu" and meta["seconds"] > 0
    assert meta["config"]["pack"] is True and meta["rows_per_epoch"][0] < 6
    assert train.latest_checkpoint(tmp_path / "ck").name == "step-00000003"


def test_a_resumed_run_ends_with_the_same_weights(tiny_model_dir, tmp_path):
    pairs = _pairs()
    cfg = train.TrainConfig(rank=4, alpha=8, epochs=3, batch_size=2, max_len=320, pack=True,
                            warmup_steps=1, max_steps=5)  # 2 steps an epoch; dropout: RNG matters
    whole = train.train_adapter(pairs[:6], tmp_path / "whole", config=cfg, heldout=pairs[6:],
                                model_path=str(tiny_model_dir),
                                checkpoints=train.Checkpoints(tmp_path / "ck-whole", every=2))

    def stop_at_3(step, total, loss):
        if step == 3:
            raise train.Cancelled

    ck = train.Checkpoints(tmp_path / "ck-cut", every=2)
    with pytest.raises(train.Cancelled):
        train.train_adapter(pairs[:6], tmp_path / "cut", config=cfg, heldout=pairs[6:],
                            model_path=str(tiny_model_dir), checkpoints=ck, progress=stop_at_3)
    assert train.latest_checkpoint(ck.directory).name == "step-00000002"
    assert not (tmp_path / "cut").exists()
    heard: list[str] = []
    resumed = train.train_adapter(pairs[:6], tmp_path / "cut", config=cfg, heldout=pairs[6:],
                                  model_path=str(tiny_model_dir), log=heard.append,
                                  checkpoints=train.Checkpoints(ck.directory, every=2, resume=True))
    assert any("resuming from" in h and "step 2/5" in h for h in heard)
    assert resumed["resumed_from_step"] == 2 and resumed["steps"] == whole["steps"] == 5
    assert resumed["losses"] == whole["losses"]
    assert resumed["heldout_loss_after"] == whole["heldout_loss_after"]
    a, b = _adapter_tensors(tmp_path / "whole"), _adapter_tensors(tmp_path / "cut")
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    # And in full precision: the final checkpoints hold the fp32 weights.
    a = _adapter_tensors(train.latest_checkpoint(tmp_path / "ck-whole"))
    b = _adapter_tensors(train.latest_checkpoint(ck.directory))
    assert all(t.dtype == torch.float32 for t in a.values())
    assert all(torch.equal(a[k], b[k]) for k in a)
    # A checkpoint from other settings is refused, not silently mixed in.
    other = train.TrainConfig(**{**cfg.__dict__, "lr": 1e-3})
    with pytest.raises(train.ResumeError, match="other settings or data"):
        train.train_adapter(pairs[:6], tmp_path / "other", config=other,
                            model_path=str(tiny_model_dir),
                            checkpoints=train.Checkpoints(ck.directory, resume=True))


def test_a_half_written_checkpoint_is_never_resumed(tmp_path):
    (tmp_path / "step-00000004").mkdir()
    (tmp_path / "step-00000004" / "state.pt").write_bytes(b"x")
    (tmp_path / "step-00000006.tmp").mkdir()
    (tmp_path / "step-00000006.tmp" / "state.pt").write_bytes(b"x")
    (tmp_path / "step-00000008").mkdir()  # renamed but empty: not a checkpoint
    assert train.latest_checkpoint(tmp_path) == tmp_path / "step-00000004"
    assert train.latest_checkpoint(tmp_path / "missing") is None


def _logits(model, tok) -> torch.Tensor:
    enc = tok(["Write a menu description for crab linguine."], return_tensors="pt")
    with torch.no_grad():
        return model(**enc).logits


def test_merged_weights_give_the_logits_of_base_plus_adapter(tiny_model_dir, tmp_path):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    adapter = random_adapter(tiny_model_dir, tmp_path / "task", seed=5)
    tok = load_tokenizer(str(tiny_model_dir))
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    plain = _logits(base, tok)
    with_adapter = _logits(PeftModel.from_pretrained(base, adapter).eval(), tok)
    merged_model = AutoModelForCausalLM.from_pretrained(tiny_model_dir).eval()
    assert merge_lora(merged_model, adapter) == 2 * 7  # two layers, seven projections
    merged = _logits(merged_model, tok)
    assert (with_adapter - plain).abs().max() > 1e-2  # the adapter matters
    torch.testing.assert_close(merged, with_adapter, atol=1e-4, rtol=0)


def test_merge_refuses_an_adapter_for_another_model(tiny_model_dir, tmp_path):
    from transformers import AutoModelForCausalLM

    adapter = random_adapter(tiny_model_dir, tmp_path / "task", seed=5)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    model.model.layers = model.model.layers[:1]
    with pytest.raises(ValueError, match="has no layer model.layers.1"):
        merge_lora(model, adapter)


@pytest.fixture
def serving_dirs(tiny_model_dir, tmp_path, settings):
    """A base cache (the tiny model) and an adapters folder of this test's own."""
    base = tmp_path / "models" / "tiny"
    shutil.copytree(tiny_model_dir, base)
    settings.MODEL_CACHE = base
    settings.TONE_ADAPTERS = tmp_path / "adapters"
    settings.MODEL_PATH = None
    return base, tmp_path / "adapters"


def test_prepare_model_merges_again_only_when_the_task_adapter_changed(
        serving_dirs, tiny_model_dir, tmp_path, settings):
    from copywriter.ml.model import adapter_hash, serving_model_path

    base, adapters = serving_dirs
    merged = tmp_path / "models" / "tiny-task"

    def prepare() -> str:
        out = io.StringIO()
        call_command("prepare_model", stdout=out)
        return out.getvalue()

    assert "no task adapter" in prepare() and not merged.exists()
    assert serving_model_path() == str(base)
    random_adapter(tiny_model_dir, adapters / "task", seed=1)
    assert "task adapter merged into" in prepare()
    record = json.loads((merged / "merged.json").read_text())
    assert record["adapter_hash"] == adapter_hash(adapters / "task")
    weights = (merged / "model.safetensors").stat()
    assert "unchanged" in prepare()
    assert (merged / "model.safetensors").stat().st_mtime_ns == weights.st_mtime_ns
    assert (merged / "model.safetensors").stat().st_ino == weights.st_ino
    first = _adapter_free_weights(merged)
    shutil.rmtree(adapters / "task")
    random_adapter(tiny_model_dir, adapters / "task", seed=2)
    assert "task adapter merged into" in prepare()
    assert json.loads((merged / "merged.json").read_text())["adapter_hash"] != record["adapter_hash"]
    assert not torch.equal(first, _adapter_free_weights(merged))
    assert serving_model_path() == str(merged)
    settings.MODEL_PATH = str(tiny_model_dir)  # overrides everything
    assert serving_model_path() == str(tiny_model_dir)
    settings.MODEL_PATH = None
    shutil.rmtree(adapters / "task")
    assert "no task adapter" in prepare() and not merged.exists()


def _adapter_free_weights(folder: Path) -> torch.Tensor:
    from safetensors.torch import load_file

    return load_file(str(folder / "model.safetensors"))["model.layers.0.self_attn.q_proj.weight"]


def test_the_worker_engine_serves_the_merged_model_with_the_tones_on_top(
        serving_dirs, tiny_model_dir, settings):
    from copywriter.ml.engine import SeqRequest, get_engine

    base, adapters = serving_dirs
    random_adapter(tiny_model_dir, adapters / "task", seed=1)
    random_adapter(tiny_model_dir, adapters / "witty", seed=3)  # a tone trained on the old base
    settings.TORCH_THREADS = 1
    get_engine.cache_clear()
    try:
        engine = get_engine()
        assert sorted(engine.stack.names) == ["__base__", "witty"]  # the task one is merged
        merged = _adapter_free_weights(base.with_name("tiny-task"))
        served = engine.model.model.layers[0].self_attn.q_proj.base.weight
        assert torch.equal(served, merged)
        assert not torch.equal(served, _adapter_free_weights(base))
        result = engine.generate([SeqRequest(prompt="Hi", adapter="witty", max_new_tokens=3,
                                             temperature=0, ignore_eos=True)])
        assert result[0].tokens == 3
    finally:
        get_engine.cache_clear()


def test_the_command_refuses_a_corpus_with_nothing_to_train_on(tmp_path):
    corpus = tmp_path / "tasks.jsonl"
    held_id = ids_in("heldout", 1)[0]
    fields, output = MENU[0]
    corpus.write_text(
        json.dumps({"id": held_id, "template": TEMPLATE, "fields": fields, "output": output}) + "\n"
        + json.dumps({"id": "x-1", "template": "no-such-template", "fields": {}, "output": "Hi"}) + "\n")
    with pytest.raises(CommandError, match=r"no training examples in .*: 2 read, 1 with problems "
                                           r".*1 in the held-out split"):
        call_command("train_task", str(corpus), "--device", "cpu")


def test_the_command_says_what_is_wrong_with_its_options(tmp_path):
    with pytest.raises(CommandError, match="no such corpus file"):
        call_command("train_task", str(tmp_path / "missing.jsonl"))
    with pytest.raises(CommandError, match="--batch-size must be at least 1"):
        call_command("train_task", "--batch-size", "0")
    if not torch.cuda.is_available():
        corpus = write_corpus(tmp_path / "tasks.jsonl")
        with pytest.raises(CommandError, match="--device cuda: torch sees no CUDA device"):
            call_command("train_task", str(corpus), "--device", "cuda")


def test_a_resumed_run_may_end_at_another_step(tiny_model_dir, tmp_path):
    """--max-steps is not part of what a checkpoint must match: a CPU run that is taking too long
    is resumed with an earlier end (the learning rate then decays to 0 there); a checkpoint past
    the new end is refused."""
    pairs = _pairs()
    cfg = train.TrainConfig(rank=4, alpha=8, epochs=3, batch_size=2, max_len=320, pack=True,
                            warmup_steps=1, max_steps=5)

    def stop_at_3(step, total, loss):
        if step == 3:
            raise train.Cancelled

    ck = train.Checkpoints(tmp_path / "ck", every=2)
    with pytest.raises(train.Cancelled):
        train.train_adapter(pairs[:6], tmp_path / "a", config=cfg, model_path=str(tiny_model_dir),
                            checkpoints=ck, progress=stop_at_3)
    shorter = train.TrainConfig(**{**cfg.__dict__, "max_steps": 4})
    done = train.train_adapter(pairs[:6], tmp_path / "a", config=shorter,
                               model_path=str(tiny_model_dir),
                               checkpoints=train.Checkpoints(ck.directory, every=2, resume=True))
    assert done["resumed_from_step"] == 2 and done["steps"] == 4
    assert len(done["losses"]) == 4
    past = train.TrainConfig(**{**cfg.__dict__, "max_steps": 3})
    with pytest.raises(train.ResumeError, match="past this run's end at step 3"):
        train.train_adapter(pairs[:6], tmp_path / "b", config=past, model_path=str(tiny_model_dir),
                            checkpoints=train.Checkpoints(ck.directory, resume=True))
