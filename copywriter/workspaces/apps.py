from django.apps import AppConfig


class WorkspacesConfig(AppConfig):
    name = "copywriter.workspaces"
    label = "workspaces"
