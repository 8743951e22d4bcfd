from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register

from copywriter.catalog.schema import load_library


@register("templates_lib")
def templates_lib_valid(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """``manage.py check`` fails on any broken file in templates_lib/."""
    _, bad = load_library(settings.TEMPLATES_LIB_DIR)
    return [Error("; ".join(exc.errors), obj=exc.source, id="catalog.E001",
                  hint="Fix the file; `manage.py validate_templates` lists every problem.")
            for exc in bad]
