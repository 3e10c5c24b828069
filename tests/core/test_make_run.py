"""`make run` starts the whole process set, becomes ready, and Ctrl-C leaves nothing behind."""

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL_SETTINGS = (
    "DATABASE_URL",
    "REDIS_URL",
    "CELERY_BROKER_URL",
    "REPLICATE_API_TOKEN",
    "REPLICATE_BASE_URL",
    "AWS_STORAGE_BUCKET_NAME",
    "AWS_S3_ENDPOINT_URL",
    "DJANGO_SETTINGS_MODULE",
    "EMAIL_URL",
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.slow
def test_make_run_serves_ready_pages_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL_SETTINGS}
    env.update(VAR_DIR=str(tmp_path / "var"), PYTEST_CURRENT_TEST="")
    first = _run_once(env, tmp_path / "first.log")
    assert "Admin created: admin@localhost  password: " in first
    # A second run reuses the database, secrets and admin of the first.
    second = _run_once(env, tmp_path / "second.log")
    assert "Admin created" not in second
    assert "Admin: admin@localhost (password shown when it was created" in second
    secrets_file = tmp_path / "var" / "local.env"
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"


def _run_once(env: dict, log_path) -> str:
    """Start `make run`, wait until /readyz?deep=1 is 200, Ctrl-C it; return what it printed."""
    port, simulator_port = _free_port(), _free_port()
    env = {**env, "PORT": str(port), "SIMULATOR_PORT": str(simulator_port)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    pgid = process.pid
    try:
        deadline = time.monotonic() + 180
        status, body = None, None
        while time.monotonic() < deadline:
            assert process.poll() is None, log_path.read_text()[-4000:]
            try:
                status, body = _get_json(f"http://127.0.0.1:{port}/readyz?deep=1")
            except (OSError, ValueError):
                status = None
            if status == 200:
                break
            time.sleep(1)
        assert status == 200, (body, log_path.read_text()[-4000:])
        assert body["checks"]["replicate"] == "ok"

        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as page:
            assert b"Pictures of you" in page.read()
        # The banner is printed once the web process answers.
        banner_deadline = time.monotonic() + 15
        while "Stop with Ctrl-C" not in log_path.read_text() and time.monotonic() < banner_deadline:
            time.sleep(0.2)
        output = log_path.read_text()
        assert f"Avatars is running:  http://127.0.0.1:{port}/" in output
    finally:
        # What Ctrl-C does in a terminal: SIGINT to the whole foreground group.
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            raise
        deadline = time.monotonic() + 30
        while _group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.5)
    leftover = _group_alive(pgid)
    if leftover:
        os.killpg(pgid, signal.SIGKILL)
    assert not leftover, "processes of `make run` were still running after Ctrl-C"
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web port is still taken"
    return output
