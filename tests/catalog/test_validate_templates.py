"""``manage.py validate_templates``: the template library's validator from the command line."""

from __future__ import annotations

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

ROOT = Path(__file__).resolve().parents[2] / "templates_lib"


def test_the_library_validates_and_the_count_is_printed():
    out = StringIO()
    call_command("validate_templates", stdout=out)
    assert "INVALID" not in out.getvalue()
    assert out.getvalue().strip().endswith(" invalid") and ", 0 invalid" in out.getvalue()


def test_a_broken_file_is_listed_with_every_problem_and_the_command_fails(tmp_path):
    good = next(ROOT.glob("ads/*.yaml"))
    (tmp_path / "ads").mkdir()
    shutil.copy(good, tmp_path / "ads" / good.name)
    broken = tmp_path / "ads" / "Broken.yaml"
    broken.write_text(good.read_text(encoding="utf-8").replace("prompt:", "promptx:", 1),
                      encoding="utf-8")
    out = StringIO()
    with pytest.raises(CommandError, match="1 invalid"):
        call_command("validate_templates", str(tmp_path), stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == f"INVALID {broken}"
    assert any("unknown keys" in line for line in lines) and any("id " in line for line in lines)
    assert lines[-1] == "templates_lib: 1 valid templates, 1 categories, 1 invalid"
