from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.audit.services import prune


class Command(BaseCommand):
    help = ("Delete activity (audit) events older than AUDIT_RETENTION_DAYS (0 keeps them all). "
            "Celery beat runs the same job daily (audit.prune).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, default=None,
                            help="keep this many days instead of AUDIT_RETENTION_DAYS")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"] if options["days"] is not None else settings.AUDIT_RETENTION_DAYS
        if days < 0:
            raise CommandError("--days must be 0 (keep everything) or more.")
        if days == 0:
            self.stdout.write("Retention is 0 days: every event is kept; nothing pruned.")
            return
        deleted = prune(days=days)
        self.stdout.write(f"Pruned {deleted} activity events older than {days} days.")
