from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "copywriter.audit"
    label = "audit"

    def ready(self) -> None:
        from copywriter.audit.receivers import connect

        connect()
