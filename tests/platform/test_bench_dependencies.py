"""llama.cpp is for the comparison bench only (issue 16): installing it compiles llama.cpp from
source for the best part of an hour on two cores, so `make install` and `make test` must never
need it, and nothing the product runs may import it."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BENCH_ONLY = "llama-cpp-python"


def _names(requirements: list[str]) -> set[str]:
    return {r.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].split("~")[0]
            .strip().lower() for r in requirements}


def test_llama_cpp_is_only_in_the_bench_extra() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project.get("optional-dependencies", {})
    assert BENCH_ONLY in _names(extras.get("bench", []))
    assert BENCH_ONLY not in _names(project.get("dependencies", []))
    for name, requirements in extras.items():
        if name != "bench":
            assert BENCH_ONLY not in _names(requirements), f"{BENCH_ONLY} in the {name} extra"


def _imports_llama_cpp(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "llama_cpp"
                                                for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "llama_cpp":
            return True
    return False


def test_product_code_never_imports_llama_cpp() -> None:
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "copywriter").rglob("*.py")
                 if _imports_llama_cpp(p.read_text())]
    assert offenders == []


def test_import_check_sees_both_import_forms() -> None:
    # The check above would pass vacuously if it could not see an import at all.
    assert _imports_llama_cpp("import llama_cpp\n")
    assert _imports_llama_cpp("def f():\n    from llama_cpp.llama import Llama\n")
    assert not _imports_llama_cpp("import llama_cpp_like\nfrom copywriter import llama_cpp\n")
