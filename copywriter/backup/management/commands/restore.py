from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = ("Restore a file written by `manage.py backup`. Rows are matched by natural keys: "
            "restoring into the same database again adds only what is missing, and nothing is "
            "deleted or overwritten. Users the database lacks are created without a password "
            "(they set one with 'Forgot password'). The file is checked against the web's "
            "limits first and refused whole if any row breaks them. Memberships are restored "
            "for accounts this restore creates, in workspaces it creates, and for accounts "
            "that --add-existing-member names.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", help="a backup.json or backup.json.gz file")
        parser.add_argument("--add-existing-member", action="append", default=[], metavar="EMAIL",
                            help="an account that already exists here, which the backup may make "
                                 "a member of the workspaces it restores (repeat for more)")

    def handle(self, *args: Any, path: str, add_existing_member: list[str], **opts: Any) -> None:
        from copywriter.backup.services import BackupError, read, restore

        try:
            report = restore(read(Path(path)), add_existing_members=add_existing_member)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        kinds = sorted(set(report.created) | set(report.existing))
        parts = [f"{kind}: {report.created.get(kind, 0)} added, {report.existing.get(kind, 0)} "
                 "already there" for kind in kinds]
        self.stdout.write("Restored " + path + ". " + "; ".join(parts) + ".")
        if report.left_out:
            self.stdout.write(
                f"{len(report.left_out)} membership(s) in the backup were not restored, because "
                "the workspace already existed here or the account did (an owner invites them, "
                "or restore again with --add-existing-member EMAIL):")
            for email, workspace, role in report.left_out:
                self.stdout.write(f"  {email} as {role} of {workspace!r}")
        if report.created.get("documents") or report.created.get("references"):
            self.stdout.write("Run `manage.py reindex_originality` so restored documents and "
                              "reference texts are compared against in originality checks.")
        if report.created.get("voices"):
            self.stdout.write("Restored brand voices are drafts with their samples: train them "
                              "again from Brand voice (trained adapters are not in backups).")
