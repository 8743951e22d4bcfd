"""Process-level promises: the web process never imports torch; deploy settings are clean."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "DJANGO_SETTINGS_MODULE": "copywriter.settings", **env},
                          timeout=120)


def test_web_process_never_imports_torch():
    code = ("import django, sys; django.setup(); import copywriter.urls; "
            "from django.test import Client; "
            "from copywriter.generation import views, services; "
            "from copywriter.voices import tasks; from copywriter.pipeline import tasks as worker; "
            "print('torch' in sys.modules, 'transformers' in sys.modules)")
    result = _run(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False False"


def test_check_deploy_is_clean_with_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT,
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "DEBUG": "0", "COPYWRITER_DEV": "0", "COPYWRITER_TESTING": "0",
             "SECRET_KEY": "x" * 20 + "a-real-secret-from-the-environment-0123456789",
             "ALLOWED_HOSTS": "copy.example.com", "PYTEST_CURRENT_TEST": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret():
    result = _run("import django; django.setup()", DEBUG="0", COPYWRITER_DEV="0", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_templates_need_no_inline_script_or_style():
    """The CSP allows only our own files: inline styles, scripts and hx-on would be blocked."""
    import re

    offenders = []
    for path in (ROOT / "copywriter").rglob("*.html"):
        text = path.read_text()
        if re.search(r'\sstyle="|<script>|<script(?![^>]*\ssrc=)|\shx-on[:-]|\sonclick=', text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders


def test_rate_counter_survives_its_key_vanishing_between_add_and_incr(monkeypatch):
    """A flush or eviction between add() and incr() restarts the count instead of a 500."""
    from django.core.cache import cache

    from copywriter.core.counters import bump

    assert bump("t-counter", timeout=60) == 1
    assert bump("t-counter", timeout=60) == 2
    real_add = cache.add

    def add_then_lose(key, value, timeout=None):
        created = real_add(key, value, timeout=timeout)
        cache.delete(key)  # what a concurrent flush does
        return created

    monkeypatch.setattr(cache, "add", add_then_lose)
    assert bump("t-counter", timeout=60) == 1
