from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "copywriter.core"
    label = "core"

    def ready(self) -> None:
        from copywriter.core.mlsettings import connect_ml_settings

        connect_ml_settings()
