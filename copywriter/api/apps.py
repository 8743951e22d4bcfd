from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "copywriter.api"
    label = "api"
    verbose_name = "JSON API"
