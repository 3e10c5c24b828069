"""docker-compose.yml cannot run here (no Docker): it is parsed, and checked against
Procfile.production, the queues of config/settings/queues.py and the `make run` Procfile.

PyYAML comes with drf-spectacular (a runtime dependency); honcho parses Procfiles for `make run`.
"""

import re
import shlex
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from honcho.environ import parse_procfile

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"release", "web", "worker-io", "worker-cpu", "beat"}
BACKING_SERVICES = {"postgres", "redis", "seaweedfs"}


def _procfile(name: str) -> dict[str, str]:
    return dict(parse_procfile((ROOT / name).read_text()).processes)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def production() -> dict[str, str]:
    return _procfile("Procfile.production")


def _option(command: str, name: str) -> str:
    words = shlex.split(command)
    assert name in words, f"{name} missing from: {command}"
    return words[words.index(name) + 1]


def _default(value: str, variable: str) -> int:
    match = re.fullmatch(r"\$\{" + variable + r":-(\d+)\}", value)
    assert match, f"{value!r} is not ${{{variable}:-N}}"
    return int(match.group(1))


def test_the_compose_file_has_web_a_worker_per_queue_beat_and_the_backing_services(compose):
    assert set(compose["services"]) == APP_SERVICES | BACKING_SERVICES


def test_each_production_process_runs_the_procfile_command(compose, production):
    assert set(production) == APP_SERVICES
    for name, command in production.items():
        assert compose["services"][name]["command"] == command, name


def test_every_app_service_runs_one_image_with_production_settings_and_routing_on(compose):
    services = compose["services"]
    images = {services[name]["image"] for name in APP_SERVICES}
    assert len(images) == 1
    for name in APP_SERVICES:
        environment = services[name]["environment"]
        assert environment["DJANGO_SETTINGS_MODULE"] == "config.settings.production", name
        assert environment["TASK_QUEUES_BY_SHAPE"] == "true", name


def test_each_queue_has_one_worker_with_its_own_concurrency_setting(production):
    consumed: dict[str, str] = {}
    for name, command in production.items():
        if " worker " not in f" {command} ":
            continue
        for queue in _option(command, "--queues").split(","):
            assert queue not in consumed, f"{queue} consumed by {consumed.get(queue)} and {name}"
            consumed[queue] = name
    default_names = {"io": "io", "cpu": "cpu"}  # TASK_QUEUE_IO / TASK_QUEUE_CPU, unset
    shapes = {default_names[shape] for shape in settings.TASK_SHAPES.values()}
    # Tasks that are not named in TASK_SHAPES go to the default queue: someone must consume it.
    assert set(consumed) == shapes | {"celery"}
    io_concurrency = _option(production[consumed["io"]], "--concurrency")
    cpu_concurrency = _option(production[consumed["cpu"]], "--concurrency")
    assert _default(io_concurrency, "WORKER_IO_CONCURRENCY") == settings.WORKER_IO_CONCURRENCY
    assert _default(cpu_concurrency, "WORKER_CPU_CONCURRENCY") == settings.WORKER_CPU_CONCURRENCY


def test_beat_runs_once(compose, production):
    beats = [name for name, command in production.items() if " beat" in command]
    assert beats == ["beat"]
    assert compose["services"]["beat"]["deploy"]["replicas"] == 1


def test_migrations_run_before_the_web_process_starts(compose, production):
    assert production["release"] == "python manage.py migrate --noinput"
    condition = compose["services"]["web"]["depends_on"]["release"]["condition"]
    assert condition == "service_completed_successfully"
    assert compose["services"]["release"]["restart"] == "no"


def test_no_secret_is_written_in_the_compose_file(compose):
    secret_words = ("SECRET", "PASSWORD", "TOKEN", "KEY")
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in secret_words):
                assert str(value).startswith("${"), f"{name}: {key} is written in the file"
        url = (service.get("environment") or {}).get("DATABASE_URL", "")
        assert not url or "${POSTGRES_PASSWORD" in url


def test_the_make_run_worker_consumes_every_queue():
    """`make run` turns routing on (scripts/run) and runs one worker: it must take both shapes."""
    command = _procfile("Procfile")["worker"]
    queues = _option(command, "--queues").split(",")
    assert queues == [
        "${TASK_QUEUE_IO:-io}",
        "${TASK_QUEUE_CPU:-cpu}",
        "${CELERY_TASK_DEFAULT_QUEUE:-celery}",
    ]
    assert (
        'TASK_QUEUES_BY_SHAPE="${TASK_QUEUES_BY_SHAPE:-true}"' in (ROOT / "scripts/run").read_text()
    )
