"""Workspace templates are written by anyone who signs up: the YAML they type and the prompt
language they use must cost no more than their size (issue 18, items 3, 4 and 17)."""

from __future__ import annotations

import hashlib
import json
import time

import pytest
import yaml
from django.conf import settings
from django.urls import reverse

from copywriter.catalog.models import Template, TemplateVersion
from copywriter.catalog.schema import (
    MAX_RENDERED_CHARS,
    PromptTooLong,
    TemplateInvalid,
    load_library,
    load_user_yaml,
    parse_template,
    render_prompt,
)
from tests.support.report import report
from tests.support.templates import ALIAS_BOMB, starter

# sha256 of every built-in template's sample prompts (json, sorted keys), rendered by the
# unbounded renderer before the prompt language was bounded: the bounded one must give the
# same bytes.
BUILTIN_PROMPTS_SHA256 = "08659a018a5e1776db04331485657151c43e3d39d6e0674f81f3b35fce9cc548"

def _post(client, ws: int, text: str):
    start = time.perf_counter()
    response = client.post(reverse("catalog:new", args=[ws]), {"yaml": text})
    return response, time.perf_counter() - start


def test_yaml_alias_bomb_is_refused_with_a_short_message(cast, bob_client):
    response, took = _post(bob_client, cast.ws.pk, ALIAS_BOMB)
    assert response.status_code == 400
    assert "anchors and aliases" in response.content.decode()
    assert len(response.content) < 50_000 and took < 2
    assert not Template.objects.filter(workspace=cast.ws).exists()


def test_yaml_nested_900_deep_is_a_400_not_a_500(cast, bob_client):
    response, took = _post(bob_client, cast.ws.pk, "id: " + "[" * 900 + "]" * 900)
    assert response.status_code == 400 and took < 2
    assert "nested more than" in response.content.decode()
    response, _ = _post(bob_client, cast.ws.pk, "id:\n" + "- " * 900 + "x")
    assert response.status_code == 400
    assert not Template.objects.filter(workspace=cast.ws).exists()


def test_error_messages_never_echo_a_value_whole():
    with pytest.raises(TemplateInvalid) as info:
        parse_template({"id": "X" * 100_000, "title": ["y" * 1000] * 1000}, source="t")
    assert len(str(info.value)) < 5_000


COSTLY_PROMPTS = {
    "nested loops": "{% for a in product %}{% for b in product %}{% for c in product %}{{ c }}"
                    "{% endfor %}{% endfor %}{% endfor %}",
    "string repetition": "{{ 'x' * 300000000 }}{{ product }}",
    "power": "{{ 10 ** 5000 }}{{ product }}",
    "xmlattr": "{{ product|xmlattr }}",
    "recursive macro": "{% macro f(x) %}{{ f(x) }}{% endmacro %}{{ f(product) }}",
    "huge range": "{{ range(100001)|list }}{{ product }}",
    "attribute walk": "{{ product.__class__.__mro__ }}",
    "set": "{% set x = product ~ product %}{{ x }}{{ product }}",
    "deep parentheses": "{{ " + "(" * 1500 + "product" + ")" * 1500 + " }}",
}


@pytest.mark.parametrize("name", list(COSTLY_PROMPTS))
def test_prompt_constructs_that_cost_unbounded_work_are_refused_at_save(cast, bob_client, name):
    prompt = "Write a short product description.\n" + COSTLY_PROMPTS[name]
    response, took = _post(bob_client, cast.ws.pk, starter(prompt=prompt))
    html = response.content.decode()
    assert response.status_code == 400, html[:500]
    assert took < 2, took
    assert "prompts may use" in html or "nested too deeply" in html
    assert not TemplateVersion.objects.filter(template__workspace=cast.ws).exists()


def test_a_prompt_that_could_render_past_the_cap_is_refused_at_save(cast, bob_client):
    field = {"name": "story", "label": "Story", "type": "textarea", "required": True,
             "max_length": 4000, "example": "Once"}
    prompt = "Retell this:\n" + "{{ story }}\n" * 13
    response, _ = _post(bob_client, cast.ws.pk, starter(
        fields=[field], prompt=prompt, samples=[{"story": "Once"}]))
    assert response.status_code == 400
    assert f"the limit is {MAX_RENDERED_CHARS:,}" in response.content.decode()
    assert not Template.objects.filter(workspace=cast.ws).exists()


def test_render_stops_at_the_cap_instead_of_building_the_whole_prompt():
    with pytest.raises(PromptTooLong):
        render_prompt("{{ a }}" * 200, {"a": "z" * 1000})


def test_bounded_language_keeps_ifs_comparisons_and_filters():
    prompt = ("{% if n|int > 3 and kind == 'long' %}Long {{ name|upper }}{% elif not kind %}"
              "none{% else %}{{ name|default('x')|trim }}{% endif %}")
    assert render_prompt(prompt, {"n": "5", "kind": "long", "name": "ab"}) == "Long AB"
    assert render_prompt(prompt, {"n": "1", "kind": "", "name": "ab"}) == "none"


def test_every_builtin_template_renders_exactly_the_prompts_it_rendered_before():
    good, bad = load_library(settings.TEMPLATES_LIB_DIR)
    assert not bad and len(good) == 323
    out = {}
    for t in good:
        out[t.id] = [t.render({k: (str(v) if isinstance(v, int) and not isinstance(v, bool) else v)
                               for k, v in s.items()}) for s in t.samples]
    blob = json.dumps(out, sort_keys=True, ensure_ascii=False).encode()
    assert hashlib.sha256(blob).hexdigest() == BUILTIN_PROMPTS_SHA256
    report(f"template costs: {len(good)} built-in templates, {sum(map(len, out.values()))} sample "
           "prompts byte-identical to the unbounded renderer's")


def test_builtin_yaml_loads_the_same_through_the_user_loader():
    paths = sorted(settings.TEMPLATES_LIB_DIR.glob("*/*.yaml"))
    assert paths, f"no templates under {settings.TEMPLATES_LIB_DIR}"  # else nothing is compared
    for path in paths:
        text = path.read_text(encoding="utf-8")
        assert load_user_yaml(text) == yaml.safe_load(text), path
