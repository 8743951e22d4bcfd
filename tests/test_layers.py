"""The worker path reads top to bottom: the pipeline sits above the apps it uses and nothing below
it imports it; generation (the rows and their rules) imports none of the apps that review, bulk
or serve its rows; core and accounts, at the bottom, import only what is below them. Every
import counts, function-local ones included."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "copywriter"

# app -> apps it must never import (directly or inside a function)
FORBIDDEN = {
    "generation": {"pipeline", "originality", "claims", "bulk", "seo", "api", "quality"},
    # A generation uses a brand voice; voices never reaches up into generation or above it.
    "voices": {"generation", "pipeline", "bulk", "api", "seo", "originality", "claims", "quality",
               "backup"},
    "originality": {"pipeline", "bulk", "seo", "api"},
    "bulk": {"pipeline", "api"},
    "seo": {"pipeline", "api"},
    # The claims check sits on generation and workspaces, beside originality.
    "claims": {"pipeline", "bulk", "api", "seo", "quality", "originality"},
    # catalog lists templates; the generate form on a template's page is generation's.
    "catalog": {"pipeline", "generation"},
    # Backups are their own app; a saved document tells originality with a signal.
    "documents": {"pipeline", "generation", "seo", "originality"},
    # fact sheets sit below generation: generation, the API and bulk read them, never the
    # other way round. They may use workspaces, accounts, core and ml only.
    "facts": {"generation", "pipeline", "bulk", "api", "seo", "quality", "originality",
              "catalog", "documents", "ops", "claims"},
    "accounts": {"pipeline"},
    "workspaces": {"pipeline"},
    "core": {"pipeline"},
    "ml": {"pipeline"},
}
# backup reads and writes every app's rows from above them all: only the operators' doors (its
# own commands, ops, the API) may call it.
BACKUP_CALLERS = {"backup", "ops", "api"}
APPS = sorted(p.parent.name for p in ROOT.glob("*/__init__.py"))
for _app in set(APPS) - BACKUP_CALLERS:
    FORBIDDEN.setdefault(_app, set()).add("backup")

# app -> the only apps it may import: the bottom of the house. core offers mechanisms (scope
# tokens, the page cache) and each app above wires its own signals; accounts tells workspaces of
# a new user with a signal.
ONLY = {
    "core": {"ml"},
    "accounts": {"core"},
}


def imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def apps_imported(path: Path) -> set[str]:
    return {name.split(".")[1] for name in imports(path)
            if name.startswith("copywriter.") and len(name.split(".")) > 1}


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_no_app_imports_an_app_above_it(app):
    wrong = {}
    for path in sorted((ROOT / app).rglob("*.py")):
        bad = apps_imported(path) & FORBIDDEN[app]
        if bad:
            wrong[str(path.relative_to(ROOT.parent))] = sorted(bad)
    assert not wrong, f"{app} imports apps above it: {wrong}"


def strays(app_dir: Path, allowed: set[str]) -> dict[str, list[str]]:
    """Each module of ``app_dir`` that imports a ``copywriter`` module outside the app and
    ``allowed`` (``copywriter.settings`` and the like count: they pull in everything)."""
    wrong = {}
    for path in sorted(app_dir.rglob("*.py")):
        bad = apps_imported(path) - allowed - {app_dir.name}
        if bad:
            wrong[str(path.relative_to(app_dir.parent))] = sorted(bad)
    return wrong


@pytest.mark.parametrize("app", sorted(ONLY))
def test_the_bottom_apps_import_only_what_is_below_them(app):
    wrong = strays(ROOT / app, ONLY[app])
    assert not wrong, f"{app} may import only {sorted(ONLY[app])}: {wrong}"


def test_the_bottom_check_sees_an_upward_import(tmp_path):
    """The control: core reaching up to a feature app (the way the page cache once wired its
    invalidation), even inside a function, is caught; its own modules and ml are not."""
    core = tmp_path / "core"
    (core / "templatetags").mkdir(parents=True)
    (core / "fine.py").write_text("from copywriter.core import scopes\nfrom copywriter.ml import x\n")
    (core / "templatetags" / "up.py").write_text(
        "def ready():\n    from copywriter.documents.models import Document\n    return Document\n")
    assert strays(core, ONLY["core"]) == {"core/templatetags/up.py": ["documents"]}


def test_the_table_names_only_apps_that_exist():
    """The control for the table: a misspelt or removed app would make its rule pass vacuously."""
    named = set(FORBIDDEN) | set().union(*FORBIDDEN.values())
    assert named <= set(APPS), sorted(named - set(APPS))
    assert {"backup", "voices"} <= set(APPS)


def test_the_check_sees_function_local_imports(tmp_path):
    """The control: an import hidden inside a function is found."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from copywriter.pipeline import worker\n    return worker\n")
    assert apps_imported(module) == {"pipeline"}
