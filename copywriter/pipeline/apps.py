from django.apps import AppConfig


class PipelineConfig(AppConfig):
    """The worker path (no models): claim -> engine -> review stages -> store -> tell bulk runs.
    It sits above the apps it uses; none of them imports it."""

    name = "copywriter.pipeline"
    label = "pipeline"
