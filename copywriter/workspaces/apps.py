from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "copywriter.workspaces"
    label = "workspaces"

    def ready(self) -> None:
        from copywriter.workspaces.receivers import connect

        connect()
