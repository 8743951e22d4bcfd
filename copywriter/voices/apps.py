from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "copywriter.voices"
    label = "voices"

    def ready(self) -> None:
        from copywriter.voices.receivers import connect

        connect()
