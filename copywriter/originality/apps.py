from django.apps import AppConfig


class OriginalityConfig(AppConfig):
    name = "copywriter.originality"
    label = "originality"
    verbose_name = "Originality check"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from copywriter.originality.receivers import connect

        connect()
