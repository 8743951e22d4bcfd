"""The house reads bottom-up. Every app (a folder of ``copywriter/``) and every module at the top
of the package sits on one layer of ``LAYERS``, and every import, module-level or inside a
function, goes from a higher layer to a strictly lower one: so no two apps import each other and
no app reaches up. A lower app tells a higher one things with a signal or a return value.
Function-local imports across apps are for keeping torch (``copywriter.ml``) out of the web
process, nothing else. docs/ARCHITECTURE.md draws the same picture."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "copywriter"

# Bottom-up; the units of one layer never import each other.
LAYERS: list[set[str]] = [
    {"ml"},  # plain Python + torch, no Django; only workers and commands load it
    {"core", "celery"},  # mechanisms that know no model; the Celery app (imports no app)
    {"accounts"},
    {"workspaces"},
    {"audit"},  # who did what, when, from where: every app above records through it
    {"facts", "documents"},
    {"catalog", "voices"},  # templates (their fields read fact sheets); brand voices
    {"generation"},  # the rows and their rules; publishes jobs by the task's name
    {"originality", "claims", "seo", "bulk", "style"},  # review, enrich or batch generations
    {"workflow"},  # a document's review and approval (may require a clean style check)
    {"webhooks"},  # tells outside systems what the workflow, generations and bulk runs did
    {"backup"},  # reads and writes the rows of the apps below
    {"pipeline", "api", "ops"},  # the worker path; the JSON API; operators' doors
    {"quality", "mcp"},  # the eval runs the worker path in-process; the MCP server
    {"settings", "urls", "wsgi", "asgi", "__init__"},  # the project: wires the apps together
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}

# Narrower than the ranks: backup reads and writes every app's rows, so only the operators'
# doors (its own commands, ops, the API) may call it.
BACKUP_CALLERS = {"backup", "ops", "api"}

# Function-local imports across apps that are neither of copywriter.ml nor in an apps.py:
# (module path under copywriter/, imported module) -> why it cannot be at the top. Empty today.
ALLOWED: dict[tuple[str, str], str] = {}


def unit_of(path: Path, root: Path = ROOT) -> str:
    parts = path.relative_to(root).parts
    return parts[0] if len(parts) > 1 else path.stem


def _module_name(path: Path, root: Path) -> list[str]:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return parts[:-1] if parts[-1] == "__init__" else parts


def _target(name: str, root: Path) -> str | None:
    """The unit that importing ``name`` (``copywriter.x.y`` or ``copywriter.x``) runs; ``None``
    outside the package."""
    parts = name.split(".")
    if parts[0] != root.name:
        return None
    if len(parts) > 1 and (parts[1] in RANK or (root / parts[1]).is_dir()
                           or (root / f"{parts[1]}.py").exists()):
        return parts[1]
    return "__init__"  # ``import copywriter`` or a name defined in copywriter/__init__.py


def imports(path: Path, root: Path = ROOT) -> list[tuple[str, str, int, bool]]:
    """Each ``copywriter`` import of a module: (unit, module, line, inside a function)."""
    tree = ast.parse(path.read_text())
    local: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            local |= {id(inner) for inner in ast.walk(node) if inner is not node}
    package = _module_name(path, root)
    if path.name != "__init__.py":
        package = package[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module or "") if p)
            # ``from copywriter import x`` imports the unit x when x is one.
            names = ([f"{module}.{alias.name}" for alias in node.names]
                     if module == root.name else [module])
        else:
            continue
        for name in names:
            unit = _target(name, root)
            if unit is not None:
                found.append((unit, name, node.lineno, id(node) in local))
    return found


def cross_imports(root: Path = ROOT) -> list[tuple[str, str, str, str, bool]]:
    """(importing unit, imported unit, where, module, inside a function) for every import from
    one unit into another."""
    found = []
    for path in sorted(root.rglob("*.py")):
        unit = unit_of(path, root)
        for target, name, line, local in imports(path, root):
            if target != unit:
                found.append((unit, target, f"{path.relative_to(root)}:{line}", name, local))
    return found


def upward(root: Path = ROOT) -> list[str]:
    return [f"{where} ({unit}, layer {RANK.get(unit)}) imports {name} (layer {RANK.get(target)})"
            for unit, target, where, name, _ in cross_imports(root)
            if unit not in RANK or target not in RANK or RANK[target] >= RANK[unit]]


def hidden(root: Path = ROOT, allowed: dict[tuple[str, str], str] = ALLOWED) -> list[str]:
    """Function-local imports across units, but those of ``copywriter.ml`` (torch stays out of
    the web process), those in an ``apps.py`` (Django wants models imported in ``ready()``, not
    while the registry loads) and those in ``allowed``."""
    return [f"{where} imports {name} inside a function"
            for unit, target, where, name, local in cross_imports(root)
            if local and target != "ml" and Path(where.split(":")[0]).name != "apps.py"
            and (where.split(":")[0], name) not in allowed]


def app_map(root: Path = ROOT) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for unit, target, *_ in cross_imports(root):
        graph.setdefault(unit, set()).add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A path a -> ... -> a in ``graph``, or ``None``."""
    state: dict[str, str] = {}  # "open" while on the path, "done" once every way out is seen
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def existing_units(root: Path = ROOT) -> set[str]:
    return ({p.parent.name for p in root.glob("*/__init__.py")}
            | {p.stem for p in root.glob("*.py")})


def test_every_import_goes_down_the_layers():
    wrong = upward()
    assert not wrong, "imports that do not go to a lower layer:\n" + "\n".join(wrong)


def test_no_cycle_between_apps():
    assert find_cycle(app_map()) is None


def test_function_local_imports_across_apps_only_keep_torch_out_of_the_web_process():
    wrong = hidden()
    assert not wrong, ("move these to the top of the module (or, if torch is why, say so in "
                       "ALLOWED):\n" + "\n".join(wrong))


def test_only_the_operators_doors_import_backup():
    callers = {unit for unit, target, *_ in cross_imports() if target == "backup"}
    assert callers <= BACKUP_CALLERS, sorted(callers - BACKUP_CALLERS)


def test_the_table_names_every_app_once():
    """The control for the table: an app missing from it, misspelt or removed, or on two layers
    would make the rules pass vacuously or contradict themselves."""
    named = [unit for units in LAYERS for unit in units]
    assert len(named) == len(set(named))
    assert set(named) == existing_units(), set(named) ^ existing_units()
    assert set(named) >= {"backup", "voices", "pipeline", "quality"} | BACKUP_CALLERS
    assert all((ROOT / path).is_file() for path, _ in ALLOWED), sorted(ALLOWED)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for folder in {p.parent for p in root.rglob("*.py")} - {root}:
        (folder / "__init__.py").touch()
    return root


def test_the_layer_check_sees_an_upward_import_even_inside_a_function(tmp_path):
    """The control: core reaching up to a feature app (the way the page cache once wired its
    invalidation) inside a function, generation reaching up at the top, an app importing a
    neighbour on its own layer, relative and ``from copywriter import`` forms: all caught;
    imports of its own modules and of lower layers are not."""
    root = _tree(tmp_path / "copywriter", {
        "celery.py": "",
        "core/fine.py": "from copywriter.core import scopes\nfrom copywriter.ml import x\n",
        "core/templatetags/up.py": "def ready():\n"
                                   "    from copywriter.documents.models import Document\n",
        "generation/services.py": "from copywriter.documents import services\n"
                                  "from copywriter import celery\n"
                                  "import copywriter.pipeline.tasks\n",
        "seo/services.py": "from ..originality import search\n",
        "documents/models.py": "", "pipeline/tasks.py": "", "originality/search.py": "",
        "ml/x.py": "",
    })
    assert upward(root) == [
        "core/templatetags/up.py:2 (core, layer 1) imports copywriter.documents.models (layer 5)",
        "generation/services.py:3 (generation, layer 7) imports copywriter.pipeline.tasks (layer 12)",
        "seo/services.py:1 (seo, layer 8) imports copywriter.originality (layer 8)",
    ]


def test_the_cycle_check_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_hidden_import_check_allows_only_ml_apps_py_and_the_listed(tmp_path):
    """The control: an import tucked into a function to dodge a cycle is caught; one of
    copywriter.ml, one in AppConfig.ready() and a listed one are not; same-app ones are not."""
    root = _tree(tmp_path / "copywriter", {
        "seo/services.py": "def enrich():\n"
                           "    from copywriter.generation.services import generation_create\n"
                           "    from copywriter.ml.embeddings import embed\n"
                           "    from copywriter.seo import suggestions\n",
        "seo/apps.py": "class C:\n    def ready(self):\n        from copywriter.core import scopes\n",
        "seo/tasks.py": "def suggest():\n    from copywriter.documents.models import Document\n",
    })
    assert hidden(root) == [
        "seo/services.py:2 imports copywriter.generation.services inside a function",
        "seo/tasks.py:2 imports copywriter.documents.models inside a function",
    ]
    listed = {("seo/tasks.py", "copywriter.documents.models"): "the control's reason"}
    assert hidden(root, listed) == [
        "seo/services.py:2 imports copywriter.generation.services inside a function"]


TESTS = Path(__file__).resolve().parent


def imported_test_modules(path: Path) -> set[str]:
    """The test modules (``tests....test_*`` or a conftest) that ``path`` imports, with the names
    imported from them."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.startswith("tests.")
            and any(part.startswith("test_") or part == "conftest" for part in name.split(".")[1:])}


def test_no_test_module_imports_another():
    """Shared fixtures live in conftest and tests/fixtures (plugins), plain helpers in
    tests/support: a test module imported by another would run its tests twice or hide a fixture."""
    wrong = {str(p.relative_to(TESTS)): sorted(imported_test_modules(p))
             for p in sorted(TESTS.rglob("*.py")) if imported_test_modules(p)}
    assert not wrong, f"test modules importing other test modules: {wrong}"


def test_the_test_import_check_sees_one(tmp_path):
    """The control: importing a helper is fine, importing a test module or conftest is not."""
    module = tmp_path / "test_x.py"
    module.write_text("from tests.support.cast import client_for\n"
                      "from tests.ml.test_train_task import write_corpus\n"
                      "def f():\n    from tests.conftest import cast\n")
    assert imported_test_modules(module) == {
        "tests.ml.test_train_task", "tests.ml.test_train_task.write_corpus", "tests.conftest",
        "tests.conftest.cast"}
