"""The web tier under load and outages: a bounded number of database connections whatever the
traffic, and 503 + Retry-After (never 500) while the database, cache or broker is out of reach."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import kombu.exceptions
import pytest
import redis.exceptions
from django.db import OperationalError, connection
from django.test import Client, override_settings
from django.urls import path

from copywriter.core.management.commands.run_all import gunicorn_command, pool_size
from tests.support import workers

ROOT = Path(__file__).resolve().parents[2]
LIMITED_ROLE = "cw_limited"
ROLE_CONNECTION_LIMIT = 4


def _raiser(exc: BaseException):  # type: ignore[no-untyped-def]
    def view(request):  # type: ignore[no-untyped-def]
        raise exc
    return view


urlpatterns = [
    path("db/", _raiser(OperationalError("server closed the connection unexpectedly"))),
    path("cache/", _raiser(redis.exceptions.ConnectionError("Error 111 connecting"))),
    path("broker/", _raiser(kombu.exceptions.OperationalError("[Errno 111] Connection refused"))),
    path("bug/", _raiser(ValueError("a real bug"))),
    path("api/v1/db/", _raiser(OperationalError("the connection pool is exhausted"))),
]
handler500 = "copywriter.core.unavailable.server_error"


@override_settings(ROOT_URLCONF=__name__)
@pytest.mark.parametrize("url", ["/db/", "/cache/", "/broker/"])
def test_a_service_out_of_reach_answers_503_with_retry_after(url):
    response = Client(raise_request_exception=False).get(url)
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert b"try again in a few seconds" in response.content


@override_settings(ROOT_URLCONF=__name__)
def test_a_real_bug_still_answers_500():
    """The control: only unreachable services become 503."""
    response = Client(raise_request_exception=False).get("/bug/")
    assert response.status_code == 500
    assert not response.has_header("Retry-After")


@override_settings(ROOT_URLCONF=__name__)
def test_api_paths_get_a_json_503():
    response = Client(raise_request_exception=False).get("/api/v1/db/")
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert "try again" in response.json()["detail"]


def test_an_unreachable_cache_answers_503_on_a_real_page(cast):
    """A signed-in page view while Valkey (cache, page-cache tokens) is down."""
    client = Client(raise_request_exception=False)
    client.force_login(cast.alice)
    with override_settings(CACHES={"default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0"}}):
        response = client.get("/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"


def test_pool_size_stays_within_max_connections():
    assert pool_size(max_connections=100, processes=2, threads=4) == 4
    assert pool_size(max_connections=26, processes=2, threads=4) == 3
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="too few"):
        pool_size(max_connections=20, processes=2, threads=4)


# --- real servers against the test database -------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _limited_database_url() -> str:
    """The test database through a role that may hold only a few connections, as the embedded
    server's 100 are for a whole deployment."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [LIMITED_ROLE])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(f"{verb} ROLE {LIMITED_ROLE} LOGIN NOSUPERUSER CONNECTION LIMIT "
                       f"{ROLE_CONNECTION_LIMIT}")
        cursor.execute(f'GRANT CONNECT ON DATABASE "{connection.settings_dict["NAME"]}" TO {LIMITED_ROLE}')
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {LIMITED_ROLE}")
        cursor.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {LIMITED_ROLE}")
        cursor.execute(f"GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO {LIMITED_ROLE}")
    url = workers.test_database_url()
    user = connection.settings_dict["USER"]
    return url.replace(f"//{user}@", f"//{LIMITED_ROLE}@", 1).replace(f"//{user}:", f"//{LIMITED_ROLE}:", 1)


def _serve(argv: list[str], env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    out = log.open("ab")
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=out, stderr=out)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text()[-3000:]
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"server did not start:\n{log.read_text()[-3000:]}")


def _burst(url: str, headers: dict[str, str], *, clients: int, rounds: int) -> list[int]:
    """``clients`` requests at the same instant, ``rounds`` times; their status codes."""
    codes: list[int] = []
    lock = threading.Lock()
    for _ in range(rounds):
        barrier = threading.Barrier(clients)

        def one(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            try:
                with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=30) as r:
                    code = r.status
            except urllib.error.HTTPError as exc:
                code = exc.code
            with lock:
                codes.append(code)

        threads = [threading.Thread(target=one) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    return codes


def _server_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DB_POOL", "PYTEST_CURRENT_TEST")}
    env.update({"PYTHONUNBUFFERED": "1", "COPYWRITER_DEV": "1", "HF_HUB_OFFLINE": "1",
                "CACHE_URL": "redis://127.0.0.1:6379/12", "CACHE_KEY_PREFIX": f"webtier{os.getpid()}",
                "PAGE_CACHE_SECONDS": "0", "API_REQUESTS_PER_MINUTE": "10000"})
    env.update(extra)
    return env


@pytest.fixture
def api_secret(transactional_db, cast):
    from copywriter.api.services import token_create

    return token_create(membership=cast.alice_m, name="load", role="editor").secret


@pytest.mark.slow
def test_connection_exhaustion_on_runserver_and_none_with_the_pooled_server(api_secret, tmp_path):
    """Today's `make run` (runserver: a thread and a kept connection per request) runs out of
    connections under a burst; the pooled gunicorn `make run` now starts does not."""
    url_db = _limited_database_url()
    headers = {"Authorization": f"Bearer {api_secret}"}
    clients, rounds = 16, 3

    port = _free_port()
    old = _serve([sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
                 _server_env(DATABASE_URL=url_db, DB_CONN_MAX_AGE="60"), port, tmp_path / "old.log")
    try:
        old_codes = _burst(f"http://127.0.0.1:{port}/api/v1/templates", headers, clients=clients, rounds=rounds)
    finally:
        old.terminate()
        old.wait(20)
    assert any(code >= 500 for code in old_codes), old_codes
    assert "too many connections" in (tmp_path / "old.log").read_text()

    port = _free_port()
    argv = gunicorn_command(host="127.0.0.1", port=port, processes=1, threads=ROLE_CONNECTION_LIMIT - 1)
    new = _serve(argv, _server_env(DATABASE_URL=url_db, DB_POOL="1",
                                   DB_POOL_MAX_SIZE=str(ROLE_CONNECTION_LIMIT - 1)),
                 port, tmp_path / "new.log")
    try:
        new_codes = _burst(f"http://127.0.0.1:{port}/api/v1/templates", headers, clients=clients, rounds=rounds)
    finally:
        new.terminate()
        new.wait(20)
    assert new_codes == [200] * (clients * rounds), (new_codes, (tmp_path / "new.log").read_text()[-3000:])


@pytest.mark.slow
def test_the_pooled_server_answers_503_while_the_database_is_down(tmp_path):
    port = _free_port()
    argv = gunicorn_command(host="127.0.0.1", port=port, processes=1, threads=2)
    env = _server_env(DATABASE_URL="postgresql://nobody@127.0.0.1:1/none", DB_POOL="1",
                      DB_POOL_TIMEOUT="1")
    server = _serve(argv, env, port, tmp_path / "down.log")
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/templates",
                                         headers={"Authorization": "Bearer cw_nothing"})
        with pytest.raises(urllib.error.HTTPError) as api:
            urllib.request.urlopen(request, timeout=30)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Cookie": "sessionid=" + "y" * 32})
        with pytest.raises(urllib.error.HTTPError) as page:
            urllib.request.urlopen(request, timeout=30)
    finally:
        server.terminate()
        server.wait(20)
    assert api.value.code == 503 and api.value.headers["Retry-After"] == "5"
    assert page.value.code == 503 and page.value.headers["Retry-After"] == "5"
