from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "copywriter.accounts"
    label = "accounts"
