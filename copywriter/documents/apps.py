from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "copywriter.documents"
    label = "documents"
