from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "copywriter.webhooks"
    label = "webhooks"

    def ready(self) -> None:
        # Hears the workflow (a document approved or published), generation (one finished) and
        # bulk (a run finished) by their signals: none of them knows webhooks exist.
        from copywriter.webhooks import receivers

        receivers.connect()
