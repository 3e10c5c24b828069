"""Request fault injection (429, 5xx, slowness) and the admin endpoints."""

import time

import httpx
import pytest
from replicate.exceptions import ReplicateError

from tests.simulator_fixtures import start_simulator

SCHNELL = "black-forest-labs/flux-schnell"


def test_throttled_get_is_retried_after_retry_after_then_succeeds(simulator):
    simulator.configure(throttle_next=1, retry_after=1)
    started = time.monotonic()
    model = simulator.client().models.get(SCHNELL)
    assert model.name == "flux-schnell"
    assert time.monotonic() - started >= 0.9  # the client honoured Retry-After: 1
    assert simulator.config()["throttle_next"] == 0


def test_throttle_response_has_the_real_body_and_headers(simulator):
    simulator.configure(throttle_next=1, retry_after=3)
    with simulator.http() as http:
        response = http.get("/v1/account")
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "Request was throttled. Expected available in 3 seconds."


def test_throttled_post_reaches_the_caller_because_the_client_never_retries_posts(simulator):
    simulator.configure(throttle_next=1, retry_after=0)
    with pytest.raises(ReplicateError) as error:
        simulator.client().models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    assert error.value.status == 429


def test_throttle_every_nth_request(simulator):
    simulator.configure(throttle_every=3, retry_after=0)
    with simulator.http() as http:
        statuses = [http.get("/v1/account").status_code for _ in range(6)]
    assert statuses == [200, 200, 429, 200, 200, 429]


def test_503_on_get_is_retried_then_succeeds(simulator):
    simulator.configure(error_next=2, error_status=503)
    assert simulator.client().accounts.current().username == simulator.owner
    assert simulator.config()["error_next"] == 0


def test_500_is_not_retried(simulator):
    simulator.configure(error_next=1, error_status=500)
    with pytest.raises(ReplicateError) as error:
        simulator.client().accounts.current()
    assert error.value.status == 500
    assert simulator.client().accounts.current().username == simulator.owner


def test_error_every_nth_request_with_504(simulator):
    simulator.configure(error_every=2, error_status=504)
    with simulator.http() as http:
        statuses = [http.get("/v1/hardware").status_code for _ in range(4)]
    assert statuses == [200, 504, 200, 504]


def test_slow_responses_trigger_client_timeouts(simulator):
    simulator.configure(slow_seconds=1.0)
    client = simulator.client(timeout=httpx.Timeout(0.3))
    with pytest.raises(httpx.ReadTimeout):
        client.accounts.current()


def test_admin_endpoints_need_the_token(simulator):
    assert httpx.get(f"{simulator.base_url}/_sim/config", timeout=5).status_code == 401
    assert httpx.post(f"{simulator.base_url}/_sim/reset", timeout=5).status_code == 401
    assert httpx.get(f"{simulator.base_url}/_sim/health", timeout=5).status_code == 200


def test_config_rejects_unknown_keys_and_bad_values(simulator):
    with simulator.http() as http:
        unknown = http.post("/_sim/config", json={"colour": "red"})
        bad = http.post("/_sim/config", json={"failure_rate": 2, "error_status": 418})
        startup = http.post("/_sim/config", json={"token": "x"})
    assert unknown.status_code == 400 and "colour" in unknown.json()["detail"]
    assert bad.status_code == 400
    assert "failure_rate" in bad.json()["detail"] and "error_status" in bad.json()["detail"]
    assert startup.status_code == 400
    assert simulator.config()["failure_rate"] == 0.0


def test_reset_restores_start_up_settings(simulator):
    before = simulator.config()
    simulator.configure(failure_rate=0.5, prediction_seconds=9, duplicate_webhooks=True)
    assert simulator.config()["prediction_seconds"] == 9
    simulator.reset()
    assert simulator.config() == before


def test_reset_with_data_forgets_user_data_but_keeps_the_catalogue(tmp_path):
    simulator = start_simulator(tmp_path, "--queue-seconds", "0", "--prediction-seconds", "0")
    try:
        client = simulator.client()
        client.models.create(
            owner=simulator.owner, name="temp", visibility="private", hardware="cpu"
        )
        prediction = client.models.predictions.create(model=SCHNELL, input={"prompt": "x"})
        simulator.reset(data=True)
        with pytest.raises(ReplicateError):
            client.models.get(f"{simulator.owner}/temp")
        with pytest.raises(ReplicateError):
            client.predictions.get(prediction.id)
        assert client.models.get(SCHNELL).latest_version is not None
    finally:
        simulator.stop()
