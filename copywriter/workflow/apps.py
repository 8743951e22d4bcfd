from django.apps import AppConfig


class WorkflowConfig(AppConfig):
    name = "copywriter.workflow"
    label = "workflow"

    def ready(self) -> None:
        from copywriter.workflow.receivers import connect

        connect()
