from django.apps import AppConfig


class SeoConfig(AppConfig):
    name = "copywriter.seo"
    label = "seo"
    verbose_name = "SEO keywords"
    default_auto_field = "django.db.models.BigAutoField"
