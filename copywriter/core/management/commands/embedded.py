from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from copywriter.core import embedded


class Command(BaseCommand):
    help = "Status or stop of the embedded PostgreSQL and Valkey under COPYWRITER_DATA_DIR."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["status", "stop"])

    def handle(self, *args: object, action: str, **options: object) -> None:
        data = settings.DATA_DIR
        if action == "status":
            self.stdout.write(f"database: {settings.DATABASES['default']['HOST'] or 'tcp'}")
            self.stdout.write(f"broker:   {settings.CELERY_BROKER_URL}")
            return
        pg = embedded.stop_postgres(data)
        vk = embedded.stop_valkey(data)
        self.stdout.write(f"stopped postgres={pg} valkey={vk}")
