import socket

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from config.celery import app as celery_app


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def broken_storage(settings, tmp_path):
    """A file where the media folder should be: every write fails."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker)},
        },
    }


@pytest.fixture
def simulator_backend(settings, replicate_simulator):
    settings.REPLICATE_BASE_URL = replicate_simulator.base_url
    settings.REPLICATE_SIMULATOR_TOKEN = replicate_simulator.token
    return replicate_simulator


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- /readyz: what serving needs ------------------------------------------------------------


@pytest.mark.django_db
def test_readyz_is_200_while_replicate_is_unreachable(client):
    # A Replicate outage must not take every web process out of the load balancer.
    with override_settings(REPLICATE_BASE_URL=f"http://127.0.0.1:{_closed_port()}"):
        response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


@pytest.mark.django_db
def test_readyz_writes_nothing_to_storage(client, broken_storage):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert "storage" not in response.json()["checks"]


@pytest.mark.django_db
def test_readyz_stays_in_service_but_says_degraded_without_the_broker(client, monkeypatch):
    """Reads work without the broker (writes answer 503 themselves): taking every web process
    out of the load balancer would stop them too."""
    monkeypatch.setattr(celery_app.conf, "broker_url", f"amqp://127.0.0.1:{_closed_port()}//")
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["broker"].startswith("error")
    assert body["checks"]["database"] == "ok"
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_is_503_and_names_the_database_when_it_fails(client, monkeypatch):
    from core import health

    def broken():
        raise RuntimeError("connection refused")

    monkeypatch.setitem(health.READINESS_CHECKS, "database", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["checks"]["database"] == "error: RuntimeError"
    assert "refused" not in response.content.decode()


# --- /readyz?deep=1: every service ----------------------------------------------------------


@pytest.mark.django_db
def test_deep_readyz_is_200_when_every_part_answers(client, simulator_backend):
    response = client.get("/readyz?deep=1")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "replicate": "ok",
    }


@pytest.mark.django_db
def test_deep_readyz_is_503_and_names_replicate_when_it_is_unreachable(client, caplog):
    with override_settings(REPLICATE_BASE_URL=f"http://127.0.0.1:{_closed_port()}"):
        response = client.get("/readyz?deep=1")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["replicate"].startswith("error")
    assert checks["database"] == checks["broker"] == checks["storage"] == "ok"
    # The reason is logged, not shown: no host or port leaks to the public probe.
    assert "127.0.0.1" not in response.content.decode()
    assert any("health check replicate failed" in r.getMessage() for r in caplog.records)


@pytest.mark.django_db
def test_deep_readyz_reports_a_wrong_replicate_token(client, settings, simulator_backend):
    settings.REPLICATE_SIMULATOR_TOKEN = "r8_not_the_right_token"
    response = client.get("/readyz?deep=1")
    assert response.status_code == 503
    assert response.json()["checks"]["replicate"] == "error: ReplicateError"


@pytest.mark.django_db
def test_deep_readyz_reports_a_broken_storage(client, broken_storage, simulator_backend):
    response = client.get("/readyz?deep=1")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"].startswith("error")
    assert response.json()["checks"]["replicate"] == "ok"


# --- manage.py check_services ---------------------------------------------------------------


@pytest.mark.django_db
def test_check_services_succeeds_when_every_part_answers(simulator_backend, capsys):
    call_command("check_services")
    out = capsys.readouterr().out
    for part in ("database", "broker", "storage", "replicate"):
        assert f"{part}: ok" in out


@pytest.mark.django_db
def test_check_services_exits_non_zero_naming_the_failed_part(capsys):
    with (
        override_settings(REPLICATE_BASE_URL=f"http://127.0.0.1:{_closed_port()}"),
        pytest.raises(CommandError) as failure,
    ):
        call_command("check_services")
    assert failure.value.returncode != 0
    assert str(failure.value) == "Not working: replicate"
    out = capsys.readouterr().out
    assert "database: ok" in out
    assert "replicate: error" in out


@pytest.mark.django_db
def test_deep_readyz_reuses_its_report_for_a_few_seconds(client, monkeypatch):
    """The probe is public: a flood of deep probes must not become a flood of Replicate calls
    and storage writes."""
    from core import health

    calls = []
    monkeypatch.setitem(health.DEEP_CHECKS, "replicate", lambda: calls.append("replicate"))
    monkeypatch.setitem(health.DEEP_CHECKS, "storage", lambda: calls.append("storage"))
    for _ in range(5):
        assert client.get("/readyz?deep=1").status_code == 200
    assert sorted(calls) == ["replicate", "storage"]
