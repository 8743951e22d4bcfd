from django.apps import AppConfig


class QualityConfig(AppConfig):
    name = "copywriter.quality"
    label = "quality"
    verbose_name = "Copy quality eval"
