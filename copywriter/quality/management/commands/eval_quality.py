"""``manage.py eval_quality``: today's generation path (and later ones) over the quality brief set,
every variant checked, one table per path and template kind. docs/quality.md explains the
figures."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from copywriter.accounts.models import User
from copywriter.catalog.models import Template
from copywriter.catalog.schema import load_library
from copywriter.catalog.services import templates_sync
from copywriter.generation.tones import TONES
from copywriter.workspaces.models import Membership, Workspace
from copywriter.workspaces.services import workspace_create


class Command(BaseCommand):
    help = ("Measure copy quality: run the brief set through generation paths, check every "
            "variant (format, invented numbers, product, facts, keyword, placeholders, echoed "
            "instructions) and print the table.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--split", default="heldout", choices=["heldout", "tune", "all"])
        parser.add_argument("--tones", default=",".join(TONES),
                            help="comma-separated tones (default: all 9)")
        parser.add_argument("--variants", type=int, default=2, help="variants per brief and tone")
        parser.add_argument("--paths", default="current",
                            help="comma-separated generation paths (registered: see --list-paths)")
        parser.add_argument("--models", default=None,
                            help="compare models in one run: base (the converted GGUF), task (the "
                                 "base with the task adapter merged in) or a model folder; each "
                                 "path's rows are labelled path@model")
        parser.add_argument("--json", default=None, help="write every variant and its checks here")
        parser.add_argument("--briefs", default=None, help="a brief set (default data/quality)")
        parser.add_argument("--formats", default=None, help="format rules (default data/quality)")
        parser.add_argument("--limit", type=int, default=None, help="the first N briefs only")
        parser.add_argument("--kind", default="all", choices=["all", "slot", "long"],
                            help="only the briefs of slot templates (output.slots) or of the others")
        parser.add_argument("--seed", type=int, default=1234)
        parser.add_argument("--database", default="scratch", choices=["scratch", "current"],
                            help="scratch (default): a database of its own, migrated, with the "
                                 "templates synced, dropped at the end; current: a scratch "
                                 "workspace in the configured database (tests)")
        parser.add_argument("--keep", action="store_true",
                            help="keep the scratch database or workspace")
        parser.add_argument("--rescore", default=None, metavar="RUN.json",
                            help="run the checks again on a saved run's texts (no generation)")
        parser.add_argument("--validate", action="store_true",
                            help="only validate the brief set and exit")
        parser.add_argument("--list-paths", action="store_true")

    def handle(self, *args: Any, **o: Any) -> None:
        from copywriter.quality import harness
        from copywriter.quality.briefs import BRIEFS_PATH, load_briefs

        if o["list_paths"]:
            self.stdout.write("\n".join(sorted(harness.PATHS)))
            return
        if o["rescore"]:
            self._rescore(Path(o["rescore"]), o)
            return
        briefs_path = Path(o["briefs"]) if o["briefs"] else BRIEFS_PATH
        all_briefs = load_briefs(briefs_path)
        formats = self._formats(o)
        self._validate(all_briefs, formats, whole_set=o["briefs"] is None)
        if o["validate"]:
            self.stdout.write(f"{len(all_briefs)} briefs over "
                              f"{len({b['template'] for b in all_briefs})} templates: valid")
            return
        briefs = [b for b in all_briefs if o["split"] in ("all", b["split"])]
        if o["kind"] != "all":
            good, _ = load_library(Path(settings.TEMPLATES_LIB_DIR))
            slotted = {spec.id for spec in good if spec.slots}
            briefs = [b for b in briefs if (b["template"] in slotted) == (o["kind"] == "slot")]
        briefs = briefs[:o["limit"]]
        tones = [t.strip() for t in o["tones"].split(",") if t.strip()]
        unknown = [t for t in tones if t not in TONES]
        if unknown or not tones:
            raise CommandError(f"unknown tone(s) {unknown}; choose from {', '.join(TONES)}")
        paths = [p.strip() for p in o["paths"].split(",") if p.strip()]
        missing = [p for p in paths if p not in harness.PATHS]
        if missing or not paths:
            raise CommandError(f"unknown path(s) {missing}; registered: {', '.join(sorted(harness.PATHS))}")
        if not 1 <= o["variants"] <= settings.GENERATION_MAX_VARIANTS:
            raise CommandError(f"--variants must be 1..{settings.GENERATION_MAX_VARIANTS}")
        if not briefs:
            raise CommandError(f"no briefs in split {o['split']!r}"
                               + (f" of kind {o['kind']!r}" if o["kind"] != "all" else ""))
        o["model_paths"] = self._models(o["models"])  # before the scratch database: fail fast
        started, commit, dirty = time.monotonic(), _git_commit(), _git_dirty()
        with contextlib.ExitStack() as stack:
            if o["database"] == "scratch":
                stack.enter_context(self._scratch_database(keep=o["keep"]))
            rows, prompts, rules, table = self._run(briefs, tones, paths, formats, o)
        self.stdout.write(harness.markdown(table))
        if o["json"]:
            result = {
                "command": "python manage.py eval_quality " + " ".join(sys.argv[2:]),
                "git_commit": commit, "uncommitted_changes": dirty,
                "split": o["split"], "tones": tones,
                "variants_per_brief": o["variants"], "paths": paths, "seed": o["seed"],
                "seconds": round(time.monotonic() - started, 1),
                "load_average": round(os.getloadavg()[0], 2),
                "summary": table,
                "briefs": [{**b, "prompt": prompts.get(b["id"], "")} for b in briefs],
                "rules": rules, "variants": rows}
            Path(o["json"]).parent.mkdir(parents=True, exist_ok=True)
            Path(o["json"]).write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
            self._say(f"written to {o['json']}")

    def _run(self, briefs: list[dict[str, Any]], tones: list[str], paths: list[str],
             formats: dict[str, Any], o: dict[str, Any]
             ) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any], dict[str, Any]]:
        from copywriter.quality import harness
        from copywriter.quality.briefs import template_kind

        templates = self._templates({b["template"] for b in briefs})
        rules = harness.rules_by_template(templates, formats)
        # Slot and long-form briefs interleaved, so the partial file of an unfinished run (and
        # every batch) holds both kinds in the set's proportion.
        briefs = harness.interleave(briefs, key=lambda b: template_kind(rules.get(b["template"])))
        jobs = [harness.Job(brief=b, tone=t, variants=o["variants"]) for b in briefs for t in tones]
        by_id = {b["id"]: b for b in briefs}
        self._say(f"{len(briefs)} briefs ({o['split']}) x {len(tones)} tones x {o['variants']} "
                  f"variants = {len(jobs) * o['variants']} variants per path; paths: {', '.join(paths)}")
        rows: list[dict[str, Any]] = []
        prompts: dict[str, str] = {}
        membership = self._scratch_workspace()
        try:
            def progress(shown: list[harness.Shown]) -> None:
                if o["json"]:
                    partial = harness.checked_rows(shown, path=path, briefs=by_id, rules=rules)
                    Path(o["json"] + ".partial").write_text(json.dumps(
                        {"note": "variants so far of an unfinished run",
                         "briefs": [{**b, "prompt": next((s.prompt for s in shown
                                                          if s.brief_id == b["id"]), "")}
                                    for b in briefs],
                         "variants": rows + partial},
                        ensure_ascii=False) + "\n")

            ctx = harness.Context(membership=membership, templates=templates, seed=o["seed"],
                                  log=self._say, progress=progress)
            for model, model_path in o["model_paths"]:
                if model_path is not None:
                    from copywriter.ml.engine import get_engine

                    ctx.engine = get_engine(model_path)
                for path in paths:
                    label = f"{path}@{model}" if model else path
                    t0 = time.monotonic()
                    shown = harness.PATHS[path](jobs, ctx)
                    prompts.update({s.brief_id: s.prompt for s in shown})
                    rows += harness.checked_rows(shown, path=label, briefs=by_id, rules=rules)
                    self._say(f"{label}: {len(shown)} variants in {time.monotonic() - t0:.0f} s")
        finally:
            if not o["keep"]:
                membership.workspace.delete()
        return rows, prompts, rules, harness.summary_table(rows)

    @staticmethod
    def _models(spec: str | None) -> list[tuple[str, str | None]]:
        """(label, model folder) per model to compare; [("", None)]: the served model, unlabelled."""
        if not spec:
            return [("", None)]
        from copywriter.ml.model import base_model_dir, merge_task_adapter

        out: list[tuple[str, str | None]] = []
        for name in (n.strip() for n in spec.split(",") if n.strip()):
            if name == "base":
                out.append((name, str(base_model_dir())))
            elif name == "task":
                merged, _fresh = merge_task_adapter()
                if merged is None:
                    raise CommandError("--models task: there is no task adapter (adapters/task); "
                                       "train one with `manage.py train_task`")
                out.append((name, str(merged)))
            elif Path(name).is_dir():
                out.append((Path(name).name, name))
            else:
                raise CommandError(f"--models: {name!r} is neither base, task nor a model folder")
        return out

    @contextlib.contextmanager
    def _scratch_database(self, *, keep: bool) -> Iterator[None]:
        """A database of its own (migrated, built-in templates synced) and a cache in this
        process: a fresh database numbers its workspaces from 1, and their quota counters and
        page-cache tokens must not land on a real workspace's keys in the shared cache."""
        from django.db import connection
        from django.test import override_settings

        db = settings.DATABASES["default"]
        test_db: dict[str, object] = db.setdefault("TEST", {})  # type: ignore[assignment]
        test_db["NAME"] = settings.EVAL_DATABASE_NAME
        t0 = time.monotonic()
        creation = connection.creation
        name = creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        try:
            with override_settings(CACHES={"default": {
                    "BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}):
                report = templates_sync(root=Path(settings.TEMPLATES_LIB_DIR))
                self._say(f"scratch database {name}: migrated, {report.created} templates "
                          f"synced in {time.monotonic() - t0:.0f} s")
                yield
        finally:
            if not keep:
                creation.destroy_test_db(name, verbosity=0)

    def _say(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()

    @staticmethod
    def _formats(o: dict[str, Any]) -> dict[str, Any]:
        from copywriter.quality.checks import load_formats

        return load_formats(Path(o["formats"]) if o["formats"] else None)

    @staticmethod
    def _validate(briefs: list[dict[str, Any]], formats: dict[str, Any], *, whole_set: bool) -> None:
        from copywriter.quality.briefs import template_kind, validate_briefs, validate_set

        good, _ = load_library(Path(settings.TEMPLATES_LIB_DIR))
        specs = {s.id: s for s in good}
        errors = validate_briefs(briefs, specs)
        if whole_set:
            kinds = {t: template_kind(formats.get(t)) for t in {b["template"] for b in briefs}}
            errors += validate_set(briefs, kinds)
        if errors:
            raise CommandError("the brief set is not valid:\n  " + "\n  ".join(errors))

    @staticmethod
    def _templates(slugs: set[str]) -> dict[str, Any]:
        found = {t.slug: t for t in Template.objects.filter(
            slug__in=slugs, workspace__isnull=True, is_active=True).select_related("current")}
        missing = sorted(slugs - set(found))
        if missing:
            raise CommandError(f"templates not in the database: {', '.join(missing)} "
                               "(run `manage.py sync_templates`)")
        return found

    @staticmethod
    def _scratch_workspace() -> Any:
        """A workspace of its own for this run, so no user's workspace gets rows, quota use or
        originality passages from it; earlier runs' leftovers (a killed run) go first."""
        from copywriter.quality.harness import EVAL_EMAIL, WORKSPACE_PREFIX

        user, _ = User.objects.get_or_create(email=EVAL_EMAIL)
        Workspace.objects.filter(created_by=user, name__startswith=WORKSPACE_PREFIX).delete()
        ws = workspace_create(owner=user, name=f"{WORKSPACE_PREFIX} {time.strftime('%Y-%m-%d %H:%M')}")
        return Membership.objects.get(workspace=ws, user=user)

    def _rescore(self, path: Path, o: dict[str, Any]) -> None:
        from copywriter.quality import harness
        from copywriter.quality.checks import rules_for

        data = json.loads(path.read_text())
        formats = self._formats(o)
        briefs = {b["id"]: b for b in data["briefs"]}
        # Today's formats.yaml: a rescore is for checks or rules that changed since the run.
        rules = {b["template"]: rules_for(b["template"], formats=formats) for b in briefs.values()}
        rows = harness.rescore(data["variants"], briefs=briefs, rules=rules,
                               prompts={k: b["prompt"] for k, b in briefs.items()})
        table = harness.summary_table(rows)
        self.stdout.write(harness.markdown(table))
        if o["json"]:
            data.update(summary=table, rules=rules, variants=rows,
                        rescored_with_commit=_git_commit())
            Path(o["json"]).write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
            self._say(f"written to {o['json']}")


def _git_dirty() -> list[str]:
    """Files of the generation path changed but not committed when the run started: the figures
    belong to that working tree, not only to the commit."""
    try:
        out = subprocess.run(["git", "status", "--porcelain", "--", "copywriter/ml",
                              "copywriter/generation", "copywriter/originality", "templates_lib",
                              "adapters"], capture_output=True, text=True,
                             cwd=settings.BASE_DIR, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines()]


def _git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              cwd=settings.BASE_DIR, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
