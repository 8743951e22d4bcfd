from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "copywriter.core"
    label = "core"
