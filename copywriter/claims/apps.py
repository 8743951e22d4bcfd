from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "copywriter.claims"
    label = "claims"
    verbose_name = "Claims check"
    default_auto_field = "django.db.models.BigAutoField"
