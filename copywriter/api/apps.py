from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "copywriter.api"
    label = "api"
    verbose_name = "JSON API"

    def ready(self) -> None:
        from django.db.models.signals import post_delete

        from copywriter.api import services
        from copywriter.workspaces.models import Membership

        # Any way a membership ends (removed, left, the account deleted) ends its tokens.
        post_delete.connect(services.tokens_revoke_on_membership_end, sender=Membership,
                            dispatch_uid="api-tokens-die-with-membership")
