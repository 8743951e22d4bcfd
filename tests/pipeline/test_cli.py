from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command


def test_generate_local_json(db, ad_template, tiny_everything):
    out = StringIO()
    call_command("generate", "--template", "google-search-ad", "--tone", "witty",
                 "--field", "product=Fernway boots", "--field", "benefit=Free returns",
                 "--variants", "2", "--length", "short", "--local", "--json", stdout=out)
    data = json.loads(out.getvalue())
    assert data["tone"] == "witty" and len(data["variants"]) == 2
    assert data["template_version"] == ad_template.current.content_hash
    assert data["fields"]["product"] == "Fernway boots"
    assert data["timings"]["scheduler"] == "continuous" and data["timings"]["tokens"] > 0
    assert 0 <= data["timings"]["first_token_seconds"] <= data["timings"]["done_seconds"]


@pytest.mark.parametrize("args,message", [
    (["--template", "nope"], "no template 'nope'"),
    (["--template", "google-search-ad", "--field", "product"], "NAME=VALUE"),
    (["--template", "google-search-ad", "--field", "benefit=x"], "product: Product or service is required"),
    (["--template", "google-search-ad", "--field", "product=x", "--field", "benefit=y",
      "--tone", "grumpy"], "Unknown tone"),
])
def test_generate_bad_input_is_a_clear_error(db, ad_template, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("generate", *args, "--local")
