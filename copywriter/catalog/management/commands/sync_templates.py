from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from copywriter.catalog.services import templates_sync


class Command(BaseCommand):
    help = "Upsert templates_lib/ into the database by id and content hash."

    def handle(self, *args: object, **options: object) -> None:
        report = templates_sync(root=settings.TEMPLATES_LIB_DIR)
        if report.invalid:
            lines = [f"{exc.source}: {e}" for exc in report.invalid for e in exc.errors]
            raise CommandError("invalid templates, nothing synced:\n" + "\n".join(lines))
        self.stdout.write(f"templates: {report.created} created, {report.updated} updated, "
                          f"{report.unchanged} unchanged, {report.deactivated} deactivated")
