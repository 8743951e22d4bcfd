"""The tone-accuracy evaluation runs end to end (tiny model, a slice of the corpus)."""

from __future__ import annotations

import pytest

from copywriter.ml import tone_eval
from copywriter.ml.tonedata import load_corpus
from tests.support.engines import random_adapter


@pytest.fixture
def tiny_tone_engine(tiny_model_dir, tmp_path):
    from copywriter.ml.engine import Engine

    tones = sorted(tone_eval.TONE_HINTS)
    engine = Engine(str(tiny_model_dir), device="cpu")
    engine.set_adapters({t: random_adapter(tiny_model_dir, tmp_path / t, i) for i, t in enumerate(tones)})
    return engine


def test_eval_reports_accuracy_and_fluency_per_tone(tiny_tone_engine, monkeypatch):
    corpus = load_corpus()
    keep = sorted({e.brief_id for e in corpus})[:18]  # 3 held-out briefs among them
    subset = [e for e in corpus if e.brief_id in keep]
    monkeypatch.setattr(tone_eval, "load_corpus", lambda: subset)
    result = tone_eval.run(tiny_tone_engine, batch_size=16, max_new_tokens=6, log=lambda m: None)
    assert set(result["per_tone"]) == set(tone_eval.TONE_HINTS)
    assert result["generations"] == 2 * len([e for e in subset if e.split == "heldout"])
    for row in result["per_tone"].values():
        for mode in ("prompt", "adapter"):
            assert 0.0 <= row[mode]["accuracy"] <= 1.0 and row[mode]["perplexity"] > 1.0
    assert 0.0 <= result["classifier_heldout_human_accuracy"] <= 1.0
    table = tone_eval.markdown(result)
    assert table.count("\n") == 2 + len(tone_eval.TONE_HINTS)


def test_a_probe_of_some_tones_writes_and_scores_only_those(tiny_tone_engine, monkeypatch):
    corpus = load_corpus()
    keep = sorted({e.brief_id for e in corpus})[:18]
    subset = [e for e in corpus if e.brief_id in keep]
    monkeypatch.setattr(tone_eval, "load_corpus", lambda: subset)
    result = tone_eval.run(tiny_tone_engine, batch_size=16, max_new_tokens=4,
                           only=["witty", "bold"], log=lambda m: None)
    assert set(result["per_tone"]) == {"witty", "bold"} == set(result["tones"])
    held = [e for e in subset if e.split == "heldout" and e.tone in ("witty", "bold")]
    assert held and result["generations"] == 2 * len(held)
    assert {s["tone"] for s in result["samples"]} == {"witty", "bold"}
