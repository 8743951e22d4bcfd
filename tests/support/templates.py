"""Built-in templates stored one at a time, good fields for the Google search ad, and workspace
template YAML (the starter a user edits, an alias bomb)."""

from __future__ import annotations

import yaml

# Fields that make a valid Google search ad (ads/google-search-ad.yaml).
GOOD = {"product": "Fernway hiking boots", "benefit": "Waterproof leather, free returns",
        "keyword": "hiking boots"}

ALIAS_BOMB = "\n".join([
    "a: &a [x, x, x, x, x, x, x, x, x]",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]",
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]",
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]",
    "id: *f",
    "title: *f",
])


def builtin_template(path: str):
    """One built-in template (``category/id.yaml`` under templates_lib), stored without syncing
    the whole library."""
    from django.conf import settings

    from copywriter.catalog.models import Template
    from copywriter.catalog.schema import load_file
    from copywriter.catalog.services import _upsert

    spec = load_file(settings.TEMPLATES_LIB_DIR / path)
    tpl = Template.objects.create(slug=spec.id)
    _upsert(tpl, spec)
    return tpl


def starter(**changes: object) -> str:
    """The new-template page's starter YAML with ``changes`` applied."""
    from copywriter.catalog.views import STARTER

    data = yaml.safe_load(STARTER)
    data.update(changes)
    return yaml.safe_dump(data, sort_keys=False)
