from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "copywriter.documents"
    label = "documents"

    def ready(self) -> None:
        from copywriter.documents.receivers import connect

        connect()
