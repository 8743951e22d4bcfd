from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.catalog.schema import load_library


class Command(BaseCommand):
    help = ("Validate every template file of a library (templates_lib/ by default) and list "
            "every problem; fails when a file is invalid. Writes nothing to the database.")
    requires_system_checks: list[str] = []  # the templates_lib check would stop it before the list

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("root", nargs="?", type=Path, default=None,
                            help="the library folder (default: the TEMPLATES_LIB_DIR setting)")

    def handle(self, *args: Any, root: Path | None = None, **options: Any) -> None:
        good, bad = load_library(root or Path(settings.TEMPLATES_LIB_DIR))
        for exc in bad:
            self.stdout.write(f"INVALID {exc.source}")
            for error in exc.errors:
                self.stdout.write(f"  - {error}")
        categories = {t.category for t in good}
        self.stdout.write(f"templates_lib: {len(good)} valid templates, {len(categories)} "
                          f"categories, {len(bad)} invalid")
        if bad:
            raise CommandError(f"{len(bad)} invalid template file(s)")
