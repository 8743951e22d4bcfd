from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.documents.models import Document
from copywriter.generation.models import Generation, Status
from copywriter.workspaces.models import Workspace


class Command(BaseCommand):
    help = ("Index (again) the passages of documents, finished generations and reference texts: "
            "after an upgrade, or when indexing tasks were lost. Idempotent; unchanged documents "
            "are skipped.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", type=int, default=None, metavar="ID")

    def handle(self, *args: Any, workspace: int | None, **opts: Any) -> None:
        from django.db.models import Q

        from copywriter.originality import indexing
        from copywriter.originality.models import ReferenceItem

        docs = Document.objects.all()
        gens = Generation.objects.filter(status=Status.DONE)
        refs = ReferenceItem.objects.all()
        if workspace is not None:
            if not Workspace.objects.filter(pk=workspace).exists():
                raise CommandError(f"--workspace: there is no workspace with id {workspace}.")
            docs, gens = docs.filter(workspace_id=workspace), gens.filter(workspace_id=workspace)
            refs = refs.filter(Q(workspace_id=workspace))
        done = {"documents": 0, "generations": 0, "references": 0}
        for pk in docs.values_list("pk", flat=True).iterator():
            indexing.index_document(pk, budgeted=False)  # the operator's, not a budget's
            done["documents"] += 1
        for pk in gens.values_list("pk", flat=True).iterator():
            indexing.index_generation(pk)
            done["generations"] += 1
        for pk in refs.values_list("pk", flat=True).iterator():
            indexing.index_reference(pk, budgeted=False)
            done["references"] += 1
        self.stdout.write(self.style.SUCCESS(
            f"indexed {done['documents']} documents, {done['generations']} generations, "
            f"{done['references']} reference texts"))
