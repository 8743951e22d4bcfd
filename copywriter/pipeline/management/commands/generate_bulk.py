"""``manage.py generate_bulk``: a bulk run from the shell, resumable.

The run is recorded in the database with the output path and the input's hash, so running the
same command again after an interruption picks the run up where it stopped: finished rows are
kept, rows being written are taken over, the rest are written.
"""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.audit.services import record
from copywriter.bulk import exports, services, window
from copywriter.bulk.errors import BulkError
from copywriter.bulk.models import BulkRun, RunStatus
from copywriter.bulk.parsing import normalise
from copywriter.bulk.selectors import run_progress
from copywriter.generation.cli import cli_target
from copywriter.pipeline.local import run_bulk


class Command(BaseCommand):
    help = "Generate copy for every row of a CSV/XLSX file: --template ID --tone TONE IN OUT"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("input", help="CSV or XLSX file, first row naming the columns")
        parser.add_argument("output", help="where to write the results (.csv or .xlsx)")
        parser.add_argument("--template", required=True, help="template id, e.g. "
                            "ecommerce-product-description")
        parser.add_argument("--tone", default="neutral")
        parser.add_argument("--length", default="medium", choices=["short", "medium", "long"])
        parser.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                            help="take a template field from a column with another name")
        parser.add_argument("--workspace", type=int, default=None,
                            help="workspace id (default: a 'cli' workspace of its own)")
        parser.add_argument("--local", action="store_true",
                            help="write the rows in this process instead of through workers")
        parser.add_argument("--restart", action="store_true",
                            help="start a new run even if one for this file and output exists")
        parser.add_argument("--timeout", type=float, default=24 * 3600)

    def handle(self, *args: Any, **o: Any) -> None:
        source, output = Path(o["input"]), Path(o["output"]).resolve()
        if not source.is_file():
            raise CommandError(f"no such file: {source}")
        if output.suffix.lower() not in (".csv", ".xlsx"):
            raise CommandError("the output must end in .csv or .xlsx")
        data = source.read_bytes()
        membership, template = cli_target(template_slug=o["template"],
                                          workspace_id=o["workspace"])
        digest = hashlib.sha256(data).hexdigest()
        run = None if o["restart"] else (
            BulkRun.objects.filter(workspace_id=membership.workspace_id, template=template,
                                   tone=o["tone"], source_hash=digest, cli_output=str(output))
            .exclude(status__in=[RunStatus.CANCELLED, RunStatus.DRAFT]).order_by("-pk").first())
        resumed = run is not None
        if run is not None:
            self.stderr.write(f"resuming run {run.pk}: {run.done} of {run.total} rows already "
                              "written")
            if run.local != o["local"]:
                BulkRun.objects.filter(pk=run.pk).update(local=o["local"])
        else:
            try:
                run = services.bulk_run_create(
                    membership=membership, template=template, tone=o["tone"],
                    length=o["length"], file_name=source.name, data=data,
                    cli_output=str(output), local=o["local"])
                if o["map"]:
                    run = services.bulk_run_map(membership=membership, run=run,
                                                mapping=self._mapping(o["map"], run, normalise))
                for note in run.file_notes:
                    self.stderr.write(f"note: {note}")
                run = services.bulk_run_start(membership=membership, run=run)
            except BulkError as exc:
                raise CommandError(exc.message) from exc
            self.stderr.write(f"run {run.pk}: {run.total} rows, {run.invalid} invalid")
        bar = _Bar(self.stderr)
        if o["local"]:
            run = run_bulk(run_id=run.pk, on_progress=bar.show)
        else:
            if resumed:  # its queued jobs may have no message left (a local run, a restart)
                window.advance(run_id=run.pk, kick=True)
            deadline = time.monotonic() + o["timeout"]
            while True:
                run = window.advance(run_id=run.pk)
                assert run is not None
                bar.show(run)
                if run.status != RunStatus.RUNNING and not run.in_flight:
                    break
                if time.monotonic() > deadline:
                    raise CommandError(f"run {run.pk} not finished after {o['timeout']}s; is a "
                                       "worker running (`make worker`)? Run the command again "
                                       "to resume.")
                time.sleep(1.0)
        bar.end(run)
        output.parent.mkdir(parents=True, exist_ok=True)
        blob = exports.to_xlsx(run) if output.suffix.lower() == ".xlsx" else exports.to_csv(run)
        tmp = output.with_name(output.name + ".part")
        tmp.write_bytes(blob)
        tmp.replace(output)
        record(workspace=membership.workspace_id, actor=membership.user, action="bulk.exported",
               target=run, summary=f"wrote the results of {run.file_name!r} to a file "
                                   "(manage.py generate_bulk)",
               details={"format": output.suffix.lower().lstrip("."), "rows": run.total})
        self.stdout.write(f"{output}: {run.done} written, {run.failed} failed, {run.invalid} "
                          f"invalid, {run.skipped} skipped (run {run.pk})")

    @staticmethod
    def _mapping(items: list[str], run: Any, normalise: Any) -> dict[str, int]:
        mapping = dict(run.mapping)
        columns = {normalise(name): i for i, name in enumerate(run.header)}
        names = {f.name for f in run.template_version.spec().fields}
        for item in items:
            field, sep, column = item.partition("=")
            if not sep or field.strip() not in names:
                raise CommandError(f"--map takes FIELD=COLUMN with a field of the template "
                                   f"({', '.join(sorted(names))}); got {item!r}")
            if normalise(column) not in columns:
                raise CommandError(f"--map {item}: the file has no column {column!r} (columns: "
                                   f"{', '.join(run.header)})")
            mapping[field.strip()] = columns[normalise(column)]
        return mapping


class _Bar:
    """A progress bar on stderr: redrawn in place on a terminal, a line every 10 s otherwise."""

    def __init__(self, stream: Any):
        self.stream, self.last = stream, 0.0
        self.tty = hasattr(sys.stderr, "isatty") and sys.stderr.isatty()

    def line(self, run: Any) -> str:
        p = run_progress(run=run)
        width = 30
        filled = int(width * p["percent"] / 100)
        eta = f", ~{p['eta_seconds']}s left" if p["eta_seconds"] is not None else ""
        return (f"[{'#' * filled}{'.' * (width - filled)}] {p['percent']:3d}% {run.done} done, "
                f"{run.failed} failed, {p['remaining']} remaining, {p['rate']} rows/min{eta}")

    def show(self, run: Any) -> None:
        now = time.monotonic()
        if self.tty:
            self.stream.write("\r" + self.line(run), ending="")
            self.stream.flush()
        elif now - self.last >= 10:
            self.stream.write(self.line(run))
            self.last = now

    def end(self, run: Any) -> None:
        self.stream.write(("\r" if self.tty else "") + self.line(run))
