"""Webhook deliveries: signatures, events, retries and the webhook fault options."""

import itertools
import time

import pytest
import replicate
from replicate.webhook import InvalidSignatureError, WebhookSigningSecret

from replicate_sim.webhooks import retry_delays, sign
from tests.replicate_sim.helpers import TRAINER, TRAINER_VERSION, training_zip
from tests.simulator_fixtures import wait_until

SCHNELL = "black-forest-labs/flux-schnell"


def _standard_webhook(secret: str):
    """The reference Standard Webhooks implementation (a test-only dependency)."""
    return pytest.importorskip("standardwebhooks").Webhook(secret)


def _is_terminal(request) -> bool:
    return request.json()["status"] in {"succeeded", "failed", "canceled"}


def test_signature_matches_the_documented_worked_example():
    secret = "whsec_c2ltdWxhdG9yLXRlc3Qtc2VjcmV0LTMyLWJ5dGVzISE="
    body = b'{"id":"abc123","status":"succeeded"}'
    signature = sign(secret, "msg_2fXgQ1hZfK0sim0001", 1735689600, body)
    assert signature == "v1,6m+J3yyENqI8hfGzxp3GRZEItKqm731ipbA3NIbZAtI="
    headers = {
        "webhook-id": "msg_2fXgQ1hZfK0sim0001",
        "webhook-timestamp": "1735689600",
        "webhook-signature": signature,
    }
    replicate.webhooks.validate(
        headers=headers, body=body.decode(), secret=WebhookSigningSecret(key=secret)
    )
    standard = _standard_webhook(secret)
    assert standard.sign("msg_2fXgQ1hZfK0sim0001", _datetime(1735689600), body.decode()) == (
        signature
    )


def _datetime(timestamp: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(timestamp, UTC)


def test_retry_schedule_doubles_and_ends_at_the_window():
    assert retry_delays(1.0, 60.0) == [1.0, 2.0, 4.0, 8.0, 16.0, 29.0]
    assert sum(retry_delays(0.05, 2.0)) == pytest.approx(2.0)
    assert retry_delays(1.0, 0.0) == []


def test_signed_completed_webhook_arrives_and_validates(simulator, webhook_receiver):
    client = simulator.client()
    prediction = client.models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook=webhook_receiver.url
    )
    [request] = webhook_receiver.wait_for(_is_terminal)
    assert request.path == "/webhooks/replicate"
    assert request.headers["content-type"] == "application/json"
    body = request.json()
    assert body["id"] == prediction.id
    assert body["status"] == "succeeded"
    assert len(body["output"]) == 1
    assert body["webhook_events_filter"] == ["output", "completed"]

    secret = client.webhooks.default.secret()
    replicate.webhooks.validate(
        headers=request.headers, body=request.text, secret=secret, tolerance=300
    )

    tampered = request.text.replace('"succeeded"', '"failed"')
    with pytest.raises(InvalidSignatureError):
        replicate.webhooks.validate(headers=request.headers, body=tampered, secret=secret)
    other = WebhookSigningSecret(key="whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=")
    with pytest.raises(InvalidSignatureError):
        replicate.webhooks.validate(headers=request.headers, body=request.text, secret=other)
    _standard_webhook(secret.key).verify(request.body, request.headers)  # the reference agrees


def test_requested_events_arrive_in_order_with_logs_throttled(simulator, webhook_receiver):
    client = simulator.client(headers={"X-Sim-Duration": "1.2"})
    prediction = client.models.predictions.create(
        model="black-forest-labs/flux-dev",
        input={"prompt": "x"},
        webhook=webhook_receiver.url,
        webhook_events_filter=["start", "logs", "completed"],
    )
    webhook_receiver.wait_for(_is_terminal)
    received = [r for r in webhook_receiver.requests if r.json()["id"] == prediction.id]
    statuses = [r.json()["status"] for r in received]
    assert statuses[0] == "starting"
    assert statuses[-1] == "succeeded"
    assert set(statuses[1:-1]) == {"processing"}
    logs = received[1:-1]
    assert len(logs) >= 2
    emitted = [
        a["emitted_at"] for a in simulator.webhook_attempts(prediction.id) if a["event"] == "logs"
    ]
    assert len(emitted) == len(logs)
    gaps = [later - earlier for earlier, later in itertools.pairwise(emitted)]
    assert min(gaps) >= 0.49, gaps  # output/logs at most once per 500 ms
    # ...while the prediction wrote many more log lines than that
    prediction.reload()
    assert len(logs) * 2 < prediction.logs.count("it/s")


def test_legacy_webhook_completed_gets_only_the_final_state(simulator, webhook_receiver):
    simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook_completed=webhook_receiver.url
    )
    [request] = webhook_receiver.wait_for(_is_terminal)
    time.sleep(0.2)
    assert len(webhook_receiver.requests) == 1
    assert request.json()["status"] == "succeeded"


@pytest.mark.parametrize("fail_status", [500, 302])  # a redirect is a failure, not followed
def test_terminal_webhook_is_retried_with_the_same_id(
    simulator, make_webhook_receiver, fail_status
):
    receiver = make_webhook_receiver(fail_first=2, fail_status=fail_status)
    prediction = simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook=receiver.url,
        webhook_events_filter=["completed"],
    )  # fmt: skip
    requests = receiver.wait_for(_is_terminal, count=3)
    assert [r.answered for r in requests] == [fail_status, fail_status, 200]
    assert len({r.headers["webhook-id"] for r in requests}) == 1
    for request in requests:  # each attempt is signed for its own timestamp
        replicate.webhooks.validate(
            headers=request.headers, body=request.text,
            secret=WebhookSigningSecret(key=simulator.webhook_secret),
        )  # fmt: skip
    attempts = simulator.webhook_attempts(prediction.id)
    assert [(a["attempt"], a["response_status"]) for a in attempts] == [
        (1, fail_status), (2, fail_status), (3, 200)
    ]  # fmt: skip


def test_intermediate_webhooks_are_not_retried(simulator, make_webhook_receiver):
    receiver = make_webhook_receiver(fail_first=1, fail_status=503)
    prediction = simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook=receiver.url,
        webhook_events_filter=["start", "completed"],
    )  # fmt: skip
    receiver.wait_for(_is_terminal)
    time.sleep(0.2)
    assert [r.json()["status"] for r in receiver.requests] == ["starting", "succeeded"]
    attempts = simulator.webhook_attempts(prediction.id)
    assert [(a["event"], a["response_status"]) for a in attempts] == [
        ("start", 503), ("completed", 200)
    ]  # fmt: skip


def test_unreachable_receiver_is_retried_then_given_up(simulator):
    simulator.configure(webhook_retry_window=0.3)
    prediction = simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook="http://127.0.0.1:9/closed",
        webhook_events_filter=["completed"],
    )  # fmt: skip
    prediction.wait()

    def attempts():
        found = simulator.webhook_attempts(prediction.id)
        return found if len(found) == 1 + len(retry_delays(0.05, 0.3)) else None

    found = wait_until(attempts, timeout=5)
    assert all(a["error"] and a["response_status"] is None for a in found)


def test_dropped_webhooks_are_never_sent(simulator, webhook_receiver):
    simulator.configure(drop_webhooks=1.0)
    prediction = simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook=webhook_receiver.url
    )
    prediction.wait()
    found = wait_until(
        lambda: [a for a in simulator.webhook_attempts(prediction.id) if a["event"] == "completed"]
    )
    assert found[0]["dropped"] is True
    time.sleep(0.2)
    assert webhook_receiver.requests == []


def test_duplicated_webhooks_arrive_twice_with_one_id(simulator, webhook_receiver):
    simulator.configure(duplicate_webhooks=True)
    simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook=webhook_receiver.url,
        webhook_events_filter=["completed"],
    )  # fmt: skip
    requests = webhook_receiver.wait_for(_is_terminal, count=2)
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"]
    assert requests[0].body == requests[1].body


def test_reordered_webhooks_deliver_start_after_completed(simulator, webhook_receiver):
    simulator.configure(reorder_webhooks=True)
    simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook=webhook_receiver.url,
        webhook_events_filter=["start", "completed"],
    )  # fmt: skip
    requests = webhook_receiver.wait_for(count=2)
    assert [r.json()["status"] for r in requests] == ["succeeded", "starting"]


def test_cancel_sends_the_completed_webhook(simulator, webhook_receiver):
    client = simulator.client(headers={"X-Sim-Duration": "30"})
    prediction = client.models.predictions.create(
        model=SCHNELL, input={"prompt": "x"}, webhook=webhook_receiver.url
    )
    client.predictions.cancel(prediction.id)
    [request] = webhook_receiver.wait_for(_is_terminal)
    assert request.json()["status"] == "canceled"


def test_training_webhook_carries_the_new_version(simulator, webhook_receiver):
    client = simulator.client()
    name = f"hooked-{time.monotonic_ns()}"
    client.models.create(
        owner=simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    training = client.trainings.create(
        model=TRAINER, version=TRAINER_VERSION, input={"input_images": training_zip(1)},
        destination=f"{simulator.owner}/{name}", webhook=webhook_receiver.url,
    )  # fmt: skip
    [request] = webhook_receiver.wait_for(_is_terminal)
    body = request.json()
    assert body["id"] == training.id
    assert body["status"] == "succeeded"
    assert body["output"]["version"].startswith(f"{simulator.owner}/{name}:")
    assert body["urls"]["get"].endswith(f"/v1/trainings/{training.id}")
