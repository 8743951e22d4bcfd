from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "copywriter.accounts"
    label = "accounts"

    def ready(self) -> None:
        from copywriter.accounts.receivers import connect

        connect()
