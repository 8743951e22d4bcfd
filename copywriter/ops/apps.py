from django.apps import AppConfig
from django.conf import settings


class OpsConfig(AppConfig):
    name = "copywriter.ops"
    label = "ops"
    verbose_name = "Operations: health, logs, task metrics"

    def ready(self) -> None:
        from copywriter.ops.logs import celery_use_django_logging, connect_celery_signals

        connect_celery_signals()
        if settings.LOG_FORMAT == "json":
            # In time: a Celery worker or beat runs django.setup() (its Django fixup) before it
            # configures logging.
            celery_use_django_logging()
