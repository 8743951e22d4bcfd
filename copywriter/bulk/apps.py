from django.apps import AppConfig


class BulkConfig(AppConfig):
    name = "copywriter.bulk"
    label = "bulk"

    def ready(self) -> None:
        # A restarted worker resumes every run that was under way (see window.resume_stalled).
        from copywriter.bulk import signals  # noqa: F401
