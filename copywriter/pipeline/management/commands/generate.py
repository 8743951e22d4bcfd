"""``manage.py generate``: one generation from the shell, through a worker or in-process."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.generation.cli import cli_target
from copywriter.generation.models import Generation, Status
from copywriter.generation.services import GenerationError, generation_create
from copywriter.pipeline.local import run_queued


class Command(BaseCommand):
    help = "Generate copy from a template: --template ID --tone TONE --field name=value ..."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--template", required=True, help="template id, e.g. google-search-ad")
        parser.add_argument("--tone", default="neutral")
        parser.add_argument("--field", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument("--variants", type=int, default=None)
        parser.add_argument("--length", default="medium", choices=["short", "medium", "long"])
        parser.add_argument("--workspace", type=int, default=None,
                            help="workspace id (default: a 'cli' workspace of its own)")
        parser.add_argument("--json", action="store_true")
        parser.add_argument("--local", action="store_true",
                            help="generate in this process instead of through a worker")
        parser.add_argument("--timeout", type=float, default=600)

    def handle(self, *args: Any, **o: Any) -> None:
        fields: dict[str, str] = {}
        for item in o["field"]:
            name, sep, value = item.partition("=")
            if not sep:
                raise CommandError(f"--field takes NAME=VALUE, got {item!r}")
            fields[name.strip()] = value
        membership, template = cli_target(template_slug=o["template"],
                                          workspace_id=o["workspace"])
        started = time.monotonic()
        if o["local"]:
            # Stored without a message to a broker; this process is the worker.
            gen = self._create(generation_create, GenerationError, membership, template, fields,
                               o, enqueue_job=False)
            run_queued(first_id=gen.pk)
        else:
            gen = self._create(generation_create, GenerationError, membership, template, fields, o)
            deadline = time.monotonic() + o["timeout"]
            while time.monotonic() < deadline:
                gen.refresh_from_db()
                if not gen.is_active:
                    break
                time.sleep(0.5)
            else:
                raise CommandError(f"generation {gen.pk} still {gen.status} after {o['timeout']}s; "
                                   "is a worker running (`make worker`)?")
        gen = Generation.objects.get(pk=gen.pk)
        if gen.status != Status.DONE:
            raise CommandError(f"generation {gen.pk} {gen.status}: {gen.error}")
        variants = [v.text for v in gen.results.order_by("index")]
        if o["json"]:
            self.stdout.write(json.dumps({
                "generation": gen.pk, "template": template.slug,
                "template_version": gen.template_version.content_hash, "tone": gen.tone,
                "fields": gen.fields, "variants": variants,
                "originality": [v.originality for v in gen.results.order_by("index")],
                "timings": {**gen.timings, "total_seconds": round(time.monotonic() - started, 2)},
            }, indent=2))
            return
        for i, text in enumerate(variants, 1):
            self.stdout.write(self.style.SUCCESS(f"--- variant {i} ---"))
            self.stdout.write(text)

    @staticmethod
    def _create(create: Any, error: type[Exception], membership: Any, template: Any,
                fields: dict[str, str], o: dict[str, Any], enqueue_job: bool = True) -> Any:
        try:
            return create(membership=membership, template=template, fields=fields, tone=o["tone"],
                          variants=o["variants"], length=o["length"], enqueue_job=enqueue_job)
        except error as exc:
            details = "; ".join(f"{k}: {v}" for k, v in getattr(exc, "field_errors", {}).items())
            raise CommandError(f"{exc}{' (' + details + ')' if details else ''}") from exc
