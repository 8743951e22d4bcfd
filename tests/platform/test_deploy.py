"""deploy/: the compose file and env example parse, every command our services run exists here,
and the env example lists exactly the settings the code reads."""

from __future__ import annotations

import ast
import fnmatch
import importlib.util
import re
import sys
from pathlib import Path

import pytest
import yaml
from django.core.management import get_commands

from tests.support.report import report

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
ENV_HELPERS = {"envbool", "envint", "envfloat", "envlist", "envsecret"}
COMPOSE_ONLY = {"POSTGRES_PASSWORD"}  # read by the compose file, not by the app


def compose() -> dict:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def env_reads(path: Path) -> set[str]:
    """Variable names a module reads: os.environ.get/[]/getenv and settings' env* helpers
    (``envsecret("X")`` also reads ``X_FILE``). ``setdefault`` writes, so it is not a read."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            f, name = node.func, node.args[0].value
            if isinstance(f, ast.Name) and f.id in ENV_HELPERS:
                names.add(name)
                if f.id == "envsecret":
                    names.add(f"{name}_FILE")
            elif isinstance(f, ast.Attribute) and f.attr in ("get", "getenv") and (
                    (isinstance(f.value, ast.Attribute) and f.value.attr == "environ")
                    or (isinstance(f.value, ast.Name) and f.value.id == "os")):
                names.add(name)
        elif isinstance(node, ast.Subscript) and isinstance(node.value, ast.Attribute) \
                and node.value.attr == "environ" and isinstance(node.slice, ast.Constant):
            names.add(node.slice.value)
    return names


def code_reads() -> set[str]:
    names: set[str] = set()
    for path in sorted((ROOT / "copywriter").rglob("*.py")):
        names |= env_reads(path)
    return names


def env_example() -> list[str]:
    text = (DEPLOY / ".env.example").read_text()
    return re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.M)


def test_the_scanner_finds_what_settings_reads():
    found = env_reads(ROOT / "copywriter" / "settings.py")
    assert {"DATABASE_URL", "SECRET_KEY", "SECRET_KEY_FILE", "GENERATION_QUEUE", "LOG_FORMAT",
            "EMAIL_HOST_PASSWORD_FILE"} <= found
    assert "DJANGO_SETTINGS_MODULE" not in code_reads()  # setdefault is not a read
    assert {"COPYWRITER_MODEL_CACHE", "COPYWRITER_ADAPTER_DIR"} <= env_reads(
        ROOT / "copywriter" / "settings.py")


# Only settings.py reads the environment (celery.py's setdefault of the settings module is not a
# read; its JSON-log hookup reads settings.LOG_FORMAT in OpsConfig.ready()).
ENV_READERS = {"copywriter/settings.py"}


def test_only_settings_reads_the_environment():
    readers = {str(p.relative_to(ROOT)) for p in sorted((ROOT / "copywriter").rglob("*.py"))
               if env_reads(p)}
    assert readers == ENV_READERS, f"read these in settings.py instead: {sorted(readers - ENV_READERS)}"


def test_the_scanner_finds_reads_and_writes_of_a_variable_but_not_setdefault(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('import os\na = os.environ.get("A")\nb = os.getenv("B")\n'
                      'c = os.environ["C"]\nos.environ["D"] = "1"\nos.environ.setdefault("E", "1")\n')
    assert env_reads(module) == {"A", "B", "C", "D"}


def test_env_example_lists_every_setting_and_nothing_stale():
    listed = env_example()
    dupes = sorted({n for n in listed if listed.count(n) > 1})
    assert not dupes, f"listed twice in deploy/.env.example: {dupes}"
    read = code_reads()
    missing = sorted(read - set(listed))
    stale = sorted(set(listed) - read - COMPOSE_ONLY)
    assert not missing, f"add to deploy/.env.example: {missing}"
    assert not stale, f"deploy/.env.example lists variables nothing reads: {stale}"
    report(f"deploy: .env.example lists all {len(read)} environment variables the code reads")


def test_compose_has_the_services_on_the_images_asked_for():
    services = compose()["services"]
    assert services["db"]["image"].startswith("pgvector/pgvector:pg16")
    assert services["redis"]["image"].startswith("redis:7")
    assert {"web", "cpu-worker", "gpu-worker", "release", "nginx"} <= set(services)
    gpu = services["gpu-worker"]
    assert gpu["build"]["dockerfile"] == "deploy/Dockerfile.gpu"
    assert gpu["deploy"]["resources"]["reservations"]["devices"][0]["capabilities"] == ["gpu"]
    first = (DEPLOY / "Dockerfile.gpu").read_text().split("\nFROM ", 1)[1].split()[0]
    assert first.startswith("nvidia/cuda:")
    for name, svc in services.items():
        for key in svc.get("environment", {}) or {}:
            assert key in code_reads() | {"POSTGRES_USER", "POSTGRES_PASSWORD", "POSTGRES_DB"}, (name, key)


def _queues(command: list[str]) -> set[str]:
    return set(command[command.index("-Q") + 1].split(","))


@pytest.mark.parametrize("name", ["release", "web", "cpu-worker", "gpu-worker", "beat"])
def test_every_command_our_images_run_exists(name):
    svc = compose()["services"][name]
    dockerfile = ROOT / svc["build"]["dockerfile"]
    assert dockerfile.exists() and (DEPLOY / svc["build"]["context"]).resolve() == ROOT
    cmd = svc["command"]
    assert isinstance(cmd, list), "exec form: no shell between the container and the process"
    exe = cmd[0]
    if exe == "python":
        assert cmd[1] == "manage.py" and cmd[2] in get_commands(), cmd
    else:
        assert Path(sys.executable).with_name(exe).exists(), f"{exe} is not installed in the venv"
    if exe == "gunicorn":
        module = cmd[1].split(":")[0]
        assert importlib.util.find_spec(module) is not None, module
    if exe == "celery":
        assert cmd[cmd.index("-A") + 1] == "copywriter"
        assert importlib.util.find_spec("copywriter.celery") is not None


def test_workers_cover_every_queue_jobs_are_sent_to():
    """With GENERATION_QUEUE=cpu (default) the CPU worker takes everything; with =gpu the GPU
    worker takes generation work and the CPU worker still takes `default`."""
    from django.conf import settings

    services = compose()["services"]
    cpu, gpu = _queues(services["cpu-worker"]["command"]), _queues(services["gpu-worker"]["command"])
    assert {"cpu", settings.CELERY_TASK_DEFAULT_QUEUE} <= cpu and "gpu" in gpu
    routed = {r["queue"] for r in settings.CELERY_TASK_ROUTES.values()}
    voices = _queues(services["voice-worker"]["command"])
    assert routed <= cpu | gpu | voices
    # brand-voice training has a worker of its own, which the generation workers are not
    assert voices == {settings.VOICE_QUEUE} and not voices & (cpu | gpu)
    # The periodic jobs: one beat service, and a worker reads the queue each job is routed to.
    assert services["beat"]["command"][3] == "beat"
    for job in settings.CELERY_BEAT_SCHEDULE.values():
        route = next((r["queue"] for pattern, r in settings.CELERY_TASK_ROUTES.items()
                      if fnmatch.fnmatch(job["task"], pattern)), settings.CELERY_TASK_DEFAULT_QUEUE)
        assert route in cpu, (job, route)
    # Dockerfiles' default commands agree with compose.
    assert '"-Q", "gpu"' in (DEPLOY / "Dockerfile.gpu").read_text()
    assert '"gunicorn", "copywriter.wsgi"' in (DEPLOY / "Dockerfile").read_text()


def test_nginx_example_proxies_to_web_and_serves_static():
    conf = (DEPLOY / "nginx.conf").read_text()
    body = re.sub(r"#.*", "", conf)
    assert body.count("{") == body.count("}")
    assert all(line.strip().endswith((";", "{", "}")) for line in body.splitlines() if line.strip())
    web = compose()["services"]["web"]
    port = web["command"][web["command"].index("--bind") + 1].rsplit(":", 1)[1]
    assert f"server web:{port};" in body and "proxy_pass http://copywriter_web;" in body
    assert "location /static/" in body and "proxy_read_timeout" in body
    assert "X-Forwarded-Proto" in body  # the app trusts it with BEHIND_PROXY=1


def test_deploy_readme_covers_several_gpu_machines():
    text = (DEPLOY / "README.md").read_text()
    for needle in ("GENERATION_QUEUE=gpu", "CELERY_BROKER_URL", "DATABASE_URL", "manage.py release",
                   "COPYWRITER_ADAPTER_DIR", "/healthz"):
        assert needle in text, needle
