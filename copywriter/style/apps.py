from django.apps import AppConfig


class StyleConfig(AppConfig):
    name = "copywriter.style"
    label = "style"
    verbose_name = "House style"
    default_auto_field = "django.db.models.BigAutoField"
