from django.apps import AppConfig


class BackupConfig(AppConfig):
    name = "copywriter.backup"
    label = "backup"
