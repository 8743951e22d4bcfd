from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.originality.files import read_folder, title_of
from copywriter.originality.services import OriginalityError
from copywriter.workspaces.models import Workspace


class Command(BaseCommand):
    help = ("Load a folder of .txt/.md files as reference texts, global (every workspace is "
            "compared against them) or for one workspace, and index them now. Re-importing a "
            "file updates its text; unchanged files are left alone.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("folder", metavar="DIR")
        parser.add_argument("--workspace", type=int, default=None, metavar="ID",
                            help="the workspace's id (default: the global corpus)")

    def handle(self, *args: Any, folder: str, workspace: int | None, **opts: Any) -> None:
        from copywriter.originality import indexing
        from copywriter.originality.models import ReferenceItem
        from copywriter.originality.services import reference_create

        ws = None
        if workspace is not None:
            ws = Workspace.objects.filter(pk=workspace).first()
            if ws is None:
                raise CommandError(f"--workspace: there is no workspace with id {workspace}.")
        try:
            files, skipped = read_folder(Path(folder))
        except OriginalityError as exc:
            raise CommandError(exc.message) from None
        for message in skipped:
            self.stderr.write(message)
        if not files:
            raise CommandError(f"No readable .txt or .md files in {folder}.")
        counts = {"added": 0, "updated": 0, "unchanged": 0, "skipped": len(skipped)}
        passages = 0
        for n, f in enumerate(files, 1):
            before = ReferenceItem.objects.filter(workspace=ws, source_name=f.name).first()
            try:
                item = reference_create(workspace=ws, title=title_of(f.name, f.text), text=f.text,
                                        source_name=f.name)
            except OriginalityError as exc:
                counts["skipped"] += 1
                self.stderr.write(f"[{n}/{len(files)}] {f.name}: skipped, {exc.message}")
                continue
            if before is None:
                state = "added"
            elif before.updated_at == item.updated_at and item.is_indexed:
                counts["unchanged"] += 1
                continue
            else:
                state = "updated"
            result = indexing.index_reference(item.pk, budgeted=False)
            counts[state] += 1
            passages += int(result.split()[-1]) if result.startswith("indexed") else 0
            # A long import shows where it is: [file n of all] on every line.
            self.stdout.write(f"[{n}/{len(files)}] {state} {f.name}: {item.title} ({result})")
        where = f"workspace {ws.pk} ({ws.name})" if ws else "the global corpus"
        self.stdout.write(self.style.SUCCESS(
            f"{where}: {counts['added']} added, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged, {counts['skipped']} skipped; {passages} passages indexed."))
