from django.apps import AppConfig


class VoicesConfig(AppConfig):
    name = "copywriter.voices"
    label = "voices"
