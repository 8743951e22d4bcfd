"""Every file in templates_lib/ is validated on its own, and the library as a whole."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from copywriter.catalog.schema import TemplateInvalid, load_file, load_library, parse_template, template_files
from tests.support.report import report

ROOT = Path(__file__).resolve().parents[2] / "templates_lib"
FILES = template_files(ROOT)


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_template_file(path):
    spec = load_file(path)  # safe YAML, schema, id = file name, placeholders, samples render
    for sample in spec.samples:
        prompt = spec.render({k: str(v) for k, v in sample.items()})
        assert "{{" not in prompt and "{%" not in prompt
        for f in spec.fields:
            if f.required:
                assert str(sample.get(f.name, "")).strip(), f"sample misses required {f.name}"
    assert spec.min_words <= len(spec.sample_output.split()) * 2, "sample output far too short"


def test_library_size_and_uniqueness():
    good, bad = load_library(ROOT)
    assert not bad, [str(b) for b in bad]
    ids = Counter(t.id for t in good)
    assert max(ids.values()) == 1
    categories = Counter(t.category for t in good)
    prompts = Counter(" ".join(t.prompt.split()) for t in good)
    assert max(prompts.values()) == 1, "two templates share the same prompt"
    report(f"templates_lib: {len(good)} templates, {len(categories)} categories, all valid")
    assert len(good) >= 300
    assert len(categories) >= 20


BASE = {
    "id": "demo", "title": "Demo", "description": "A demo.", "category": "ads", "tags": ["x"],
    "fields": [{"name": "product", "label": "Product", "type": "text", "required": True,
                "max_length": 40, "example": "Widget"},
               {"name": "extra", "label": "Extra", "type": "text", "required": False,
                "max_length": 40, "example": "More"}],
    "prompt": "Write about {{ product }}.\n{% if extra %}Also {{ extra }}.{% endif %}",
    "output": {"format": "plain", "min_words": 5, "max_words": 50, "variants": 3},
    "samples": [{"product": "Widget"}],
    "sample_output": "A fine widget.",
}


def _broken(**changes):
    data = yaml.safe_load(yaml.safe_dump(BASE))
    for key, value in changes.items():
        data[key] = value
    return data


@pytest.mark.parametrize("changes,message", [
    ({"prompt": "Write about {{ product }} and {{ colour }}. {% if extra %}{{ extra }}{% endif %}"},
     "undeclared placeholders ['colour']"),
    ({"prompt": "Write about {{ product }} only, nothing else."}, "unused by the prompt ['extra']"),
    ({"prompt": "Write about {{ product }}. Also {{ extra }}."}, "inside {% if name %}"),
    ({"prompt": "Write about {{ product }. {% if extra %}{{ extra }}{% endif %}"}, "syntax error"),
    ({"samples": [{"product": "x" * 41}]}, "the limit is 40"),
    ({"samples": [{"extra": "only optional"}]}, "Product is required"),
    ({"output": {"format": "tweet", "min_words": 5, "max_words": 50}}, "output.format"),
    ({"output": {"format": "plain", "min_words": 60, "max_words": 50}}, "min_words <= max_words"),
    ({"id": "Bad Id"}, "id must be lowercase-hyphenated"),
    ({"sampling": {"temperature": 9}}, "sampling.temperature"),
])
def test_validator_rejects(changes, message):
    with pytest.raises(TemplateInvalid) as exc:
        parse_template(_broken(**changes), source="demo.yaml")
    assert message in str(exc.value)


def test_choice_fields_and_examples_are_checked():
    data = _broken(fields=[{"name": "product", "label": "Product", "type": "choice", "required": True,
                            "choices": ["a", "b"], "example": "c"}],
                   prompt="Write about {{ product }} now please.", samples=[{"product": "a"}])
    with pytest.raises(TemplateInvalid, match="must be one of: a, b"):
        parse_template(data, source="demo.yaml")


def test_sandbox_blocks_attribute_escapes():
    data = _broken(prompt="{{ product.__class__.__mro__ }} {% if extra %}{{ extra }}{% endif %}")
    # Refused before any render since issue 18 bounded the prompt language.
    with pytest.raises(TemplateInvalid, match=r"attribute access \(a\.b\)"):
        parse_template(data, source="demo.yaml")


def test_system_check_fails_on_a_broken_file(tmp_path, settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    (tmp_path / "ads").mkdir()
    (tmp_path / "ads" / "oops.yaml").write_text("id: oops\ntitle: [unclosed\n")
    settings.TEMPLATES_LIB_DIR = tmp_path
    with pytest.raises(SystemCheckError, match="catalog.E001"):
        call_command("check")


def test_sync_upserts_by_content_hash(tmp_path, db):
    from copywriter.catalog.models import Template
    from copywriter.catalog.services import templates_sync

    (tmp_path / "ads").mkdir()
    path = tmp_path / "ads" / "demo.yaml"
    path.write_text(yaml.safe_dump(BASE))
    first = templates_sync(root=tmp_path)
    assert (first.created, first.updated) == (1, 0)
    tpl = Template.objects.get(slug="demo")
    v1 = tpl.current_id
    assert templates_sync(root=tmp_path).unchanged == 1
    path.write_text(yaml.safe_dump({**BASE, "title": "Demo 2"}))
    assert templates_sync(root=tmp_path).updated == 1
    tpl.refresh_from_db()
    assert tpl.current_id != v1 and tpl.versions.count() == 2 and tpl.title == "Demo 2"
    path.unlink()
    assert templates_sync(root=tmp_path).deactivated == 1
