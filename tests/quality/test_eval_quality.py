"""``manage.py eval_quality`` end to end with two inline briefs: today's path on the tiny random
model (the worker's own batch code, in a scratch workspace that is gone afterwards), a path
registered by later work next to it, the saved run re-checked, and a bad brief set refused.
The real brief set (data/quality) is never used here."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.support.templates import builtin_template

BRIEFS = [
    {"id": "ad-1", "template": "google-search-ad", "split": "heldout", "industry": "energy",
     "fields": {"product": "Tidewell solar panels", "benefit": "Free roof survey, installed in 2 days",
                "keyword": "solar panels"},
     "product": "Tidewell", "keyword": "solar panels",
     "facts": [{"fact": "free roof survey", "any": ["survey"]},
               {"fact": "installed in 2 days", "any": ["2 days"]},
               {"fact": "solar", "any": ["solar"]}]},
    {"id": "subjects-1", "template": "email-subject-lines", "split": "heldout", "industry": "books",
     "fields": {"email_about": "Signed-copy evening with Ruth Okafor on 9 November, tickets 8 pounds",
                "audience": "Bookshop newsletter readers", "count": "5", "max_chars": "40"},
     "product": None, "keyword": None,
     "facts": [{"fact": "signed copies", "any": ["signed"]},
               {"fact": "Ruth Okafor", "any": ["okafor"]},
               {"fact": "9 November", "any": ["9 november"]}]},
]


@pytest.fixture
def brief_file(tmp_path):
    path = tmp_path / "briefs.jsonl"
    path.write_text("".join(json.dumps(b) + "\n" for b in BRIEFS))
    return path


@pytest.fixture
def templates(db):
    return [builtin_template("ads/google-search-ad.yaml"),
            builtin_template("email/email-subject-lines.yaml")]


@pytest.fixture
def tiny_engine(tiny_model_dir, settings, tmp_path):
    from copywriter.ml.engine import get_engine

    settings.MODEL_PATH = str(tiny_model_dir)
    settings.TONE_ADAPTERS = tmp_path / "no-adapters"
    get_engine.cache_clear()
    yield
    get_engine.cache_clear()


def _run(*args: str) -> str:
    out = StringIO()
    call_command("eval_quality", "--database", "current", *args, stdout=out)
    return out.getvalue()


def test_current_path_runs_the_workers_batch_code_and_leaves_no_rows(
        brief_file, templates, tiny_engine, tmp_path):
    from copywriter.generation.models import Generation
    from copywriter.workspaces.models import Workspace

    report = tmp_path / "run.json"
    printed = _run("--briefs", str(brief_file), "--split", "heldout", "--tones", "neutral",
                   "--variants", "2", "--paths", "current", "--json", str(report))
    data = json.loads(report.read_text())
    rows = data["variants"]
    # (in the order the worker stored them: short slot items may finish first)
    assert sorted((r["brief"], r["index"]) for r in rows) == [
        ("ad-1", 0), ("ad-1", 1), ("subjects-1", 0), ("subjects-1", 1)]
    # Generated for real: tokens counted per shown variant, the stored text, no failure.
    assert all(r["tokens"] > 0 and r["seconds"] > 0 and not r["error"] for r in rows)
    assert all(set(r["checks"]) >= {"format_ok", "invented_numbers", "names_product", "facts",
                                    "keyword", "placeholders", "echoed"} for r in rows)
    assert {r["kind"] for r in rows} == {"slot"}
    assert data["briefs"][0]["prompt"].startswith("Write a Google search ad for Tidewell")
    summary = data["summary"]["current"]
    assert summary["all"]["variants"] == 4 and summary["slot"]["variants"] == 4
    assert summary["all"]["google_search_ad_ok"].endswith("of 2")
    assert "| current | slot | 4 |" in printed
    # The scratch workspace and everything in it are gone.
    assert not Workspace.objects.filter(name__startswith="Quality eval").exists()
    assert not Generation.objects.exists()


def test_a_registered_path_is_measured_next_to_current_with_the_same_checks(
        brief_file, templates, monkeypatch, tmp_path):
    from copywriter.quality import harness

    def perfect(jobs, ctx):
        text = {"ad-1": "Tidewell Solar Panels\nFree Roof Survey\nInstalled In 2 Days\n"
                        "Tidewell solar panels, installed in 2 days after a free roof survey.\n"
                        "Book your free survey today.",
                "subjects-1": "Meet Ruth Okafor on 9 November\nSigned copies, one evening\n"
                              "Tickets are 8 pounds\nRuth Okafor signs for you\n"
                              "Your signed copy awaits"}
        return [harness.Shown(brief_id=j.brief["id"], tone=j.tone, index=i,
                              text=text[j.brief["id"]], tokens=10, seconds=0.5, prompt="Write it.")
                for j in jobs for i in range(j.variants)]

    monkeypatch.setitem(harness.PATHS, "perfect", perfect)
    report = tmp_path / "run.json"
    _run("--briefs", str(brief_file), "--split", "all", "--tones", "neutral,witty",
         "--variants", "1", "--paths", "perfect", "--json", str(report))
    summary = json.loads(report.read_text())["summary"]["perfect"]["all"]
    assert summary["variants"] == 4
    assert summary["format_ok"] == 1.0 and summary["facts"] == 1.0
    assert summary["names_product"] == 1.0 and summary["keyword"] == 1.0
    assert summary["invented_number"] == 0.0 and summary["placeholder"] == 0.0
    assert summary["google_search_ad_ok"] == "2 of 2"
    assert summary["tokens_per_variant"] == 10 and summary["seconds_per_variant"] == 0.5

    # A saved run can be checked again without generating (after a check or a rule changed).
    rescored = tmp_path / "again.json"
    out = StringIO()
    call_command("eval_quality", "--rescore", str(report), "--json", str(rescored), stdout=out)
    assert json.loads(rescored.read_text())["summary"]["perfect"]["all"]["format_ok"] == 1.0
    assert "| perfect | all | 4 |" in out.getvalue()


def test_a_brief_whose_fact_is_not_in_its_fields_is_refused(tmp_path, db):
    bad = dict(BRIEFS[0], facts=[{"fact": "10-year warranty", "any": ["10-year"]}] * 3)
    path = tmp_path / "briefs.jsonl"
    path.write_text(json.dumps(bad) + "\n")
    with pytest.raises(CommandError, match="none of the words of fact '10-year warranty'"):
        _run("--briefs", str(path))


def test_unknown_path_and_tone_are_clear_errors(brief_file, db):
    with pytest.raises(CommandError, match="unknown path.*registered: best3, current, single, slots"):
        _run("--briefs", str(brief_file), "--paths", "nonesuch")
    with pytest.raises(CommandError, match="unknown tone"):
        _run("--briefs", str(brief_file), "--tones", "grumpy")


def test_models_are_compared_in_one_run_with_labelled_rows(
        brief_file, templates, monkeypatch, tmp_path, tiny_model_dir, tiny_engine):
    from copywriter.quality import harness

    engines = []

    def one(jobs, ctx):
        engines.append(ctx.engine)
        return [harness.Shown(brief_id=j.brief["id"], tone=j.tone, index=0, text="Tidewell",
                              tokens=1, seconds=0.1, prompt="Write it.") for j in jobs]

    monkeypatch.setitem(harness.PATHS, "one", one)
    report = tmp_path / "run.json"
    _run("--briefs", str(brief_file), "--split", "all", "--tones", "neutral", "--variants", "1",
         "--paths", "one", "--models", str(tiny_model_dir), "--json", str(report))
    summary = json.loads(report.read_text())["summary"]
    assert list(summary) == [f"one@{tiny_model_dir.name}"]
    assert len(engines) == 1 and engines[0] is not None  # the path ran on that model's engine


def test_an_unknown_model_is_a_clear_error(brief_file, db):
    with pytest.raises(CommandError, match="--models: 'nonesuch' is neither base, task nor a model"):
        _run("--briefs", str(brief_file), "--models", "nonesuch")


def test_kind_keeps_only_the_briefs_of_slot_templates_or_of_the_others(brief_file, templates,
                                                                        monkeypatch, tmp_path):
    from copywriter.quality import harness

    seen = []

    def record(jobs, ctx):
        seen.extend(j.brief["id"] for j in jobs)
        return [harness.Shown(brief_id=j.brief["id"], tone=j.tone, index=0, text="x", tokens=1,
                              seconds=0.1, prompt="Write it.") for j in jobs]

    monkeypatch.setitem(harness.PATHS, "record", record)
    _run("--briefs", str(brief_file), "--split", "all", "--tones", "neutral", "--variants", "1",
         "--paths", "record", "--kind", "slot")
    assert sorted(seen) == ["ad-1", "subjects-1"]  # both templates have output.slots
    with pytest.raises(CommandError, match="no briefs in split 'all' of kind 'long'"):
        _run("--briefs", str(brief_file), "--split", "all", "--tones", "neutral",
             "--variants", "1", "--paths", "record", "--kind", "long")
