"""What a release runs once, before the new web servers and workers start."""

from __future__ import annotations

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = ("Migrate the database, load the template library, collect static files and prepare "
            "the model cache: run once per release (docker compose runs it as `release`).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--skip-model", action="store_true",
                            help="do not prepare the model cache (web-only machines)")

    def handle(self, *args: object, skip_model: bool, **opts: object) -> None:
        steps: list[tuple[str, tuple[str, ...]]] = [
            ("migrate", ("--noinput",)), ("sync_templates", ()), ("collectstatic", ("--noinput",))]
        if not skip_model:
            steps.append(("prepare_model", ()))
        for name, argv in steps:
            self.stdout.write(f"release: {name}")
            call_command(name, *argv, verbosity=int(str(opts.get("verbosity", 1))))
        self.stdout.write(self.style.SUCCESS("release: done"))
