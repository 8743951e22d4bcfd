from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "copywriter.catalog"
    label = "catalog"

    def ready(self) -> None:
        from copywriter.catalog import checks  # noqa: F401 - registers the system check
        from copywriter.catalog.receivers import connect

        connect()
