from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "copywriter.generation"
    label = "generation"
