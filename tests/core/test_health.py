import socket

import pytest


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.django_db
def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_every_part_answers(client, settings, replicate_simulator):
    settings.REPLICATE_BASE_URL = replicate_simulator.base_url
    settings.REPLICATE_SIMULATOR_TOKEN = replicate_simulator.token
    response = client.get("/readyz")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "storage": "ok",
        "replicate": "ok",
    }


@pytest.mark.django_db
def test_readyz_is_503_and_names_the_part_that_failed(client, settings):
    settings.REPLICATE_BASE_URL = f"http://127.0.0.1:{_closed_port()}"
    response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["replicate"].startswith("error")
    assert checks["database"] == "ok"
    # The reason is logged, not shown: no host or port leaks to the public probe.
    assert "127.0.0.1" not in response.content.decode()


@pytest.mark.django_db
def test_readyz_reports_a_wrong_replicate_token(client, settings, replicate_simulator):
    settings.REPLICATE_BASE_URL = replicate_simulator.base_url
    settings.REPLICATE_SIMULATOR_TOKEN = "r8_not_the_right_token"
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["replicate"] == "error: ReplicateError"


@pytest.mark.django_db
def test_readyz_reports_a_broken_storage(client, settings, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(blocker)},
        },
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["storage"].startswith("error")
