from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Write documents with all their versions (conflict copies too), keyword lists, and "
            "their workspaces and members to OUT (.json, or .json.gz to compress). Restore with "
            "`manage.py restore OUT`.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("out", help="file to write: backup.json or backup.json.gz")
        parser.add_argument("--workspace", type=int, action="append", metavar="ID",
                            help="only this workspace (repeat for more); all by default")

    def handle(self, *args: Any, out: str, workspace: list[int] | None, **opts: Any) -> None:
        from copywriter.backup.services import BackupError, dump, write

        path = Path(out)
        if not path.parent.is_dir():
            raise CommandError(f"{path.parent} is not a folder.")
        try:
            data = dump(workspace_ids=workspace)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        write(data, path)
        versions = sum(len(d["versions"]) for d in data["documents"])
        self.stdout.write(f"Wrote {path}: {len(data['workspaces'])} workspaces, "
                          f"{len(data['documents'])} documents, {versions} versions, "
                          f"{len(data['keyword_lists'])} keyword lists, "
                          f"{len(data['templates'])} templates, {len(data['voices'])} brand voices, "
                          f"{len(data['references'])} reference texts, {len(data['users'])} users.")
