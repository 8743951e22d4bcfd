from django.apps import AppConfig


class FactsConfig(AppConfig):
    name = "copywriter.facts"
    label = "facts"

    def ready(self) -> None:
        # Pages that list a workspace's sheets (the generate form) are rendered again after any
        # change to them.
        from django.db.models.signals import post_save

        from copywriter.core import scopes
        from copywriter.facts.models import FactSheet, FactSheetVersion, scope

        def sheet_saved(sender: object, instance: FactSheet, **kwargs: object) -> None:
            scopes.invalidate(scope(instance.workspace_id))

        def version_saved(sender: object, instance: FactSheetVersion, **kwargs: object) -> None:
            scopes.invalidate(scope(instance.sheet.workspace_id))

        post_save.connect(sheet_saved, sender=FactSheet, weak=False, dispatch_uid="facts-sheet")
        post_save.connect(version_saved, sender=FactSheetVersion, weak=False,
                          dispatch_uid="facts-version")
