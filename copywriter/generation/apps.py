from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "copywriter.generation"
    label = "generation"

    def ready(self) -> None:
        from copywriter.generation.receivers import connect

        connect()
