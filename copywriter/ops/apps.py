from django.apps import AppConfig


class OpsConfig(AppConfig):
    name = "copywriter.ops"
    label = "ops"
    verbose_name = "Operations: health, logs, task metrics"

    def ready(self) -> None:
        from copywriter.ops.logs import connect_celery_signals

        connect_celery_signals()
