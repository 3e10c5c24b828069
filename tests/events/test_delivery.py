"""Deliveries reach a real HTTP receiver, signed so that the `standardwebhooks` library verifies
them; failures are retried with back-off, endpoints that keep failing are disabled, a delivery
can be replayed."""

from __future__ import annotations

import itertools
import json
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from config.celery import app as celery_app
from events import services
from events.models import Event, EventDelivery
from events.services import event_delivery_attempt, event_publish
from events.tasks import event_deliveries_send_due_task
from tests.simulator_fixtures import wait_until

pytestmark = pytest.mark.django_db

Status = EventDelivery.Status


def _publish(owner, capture, *, type="training.succeeded", data=None):
    """Publish and run what is sent after commit (the attempt runs inline: tasks are eager)."""
    with capture(execute=True):
        return event_publish(user=owner, type=type, data=data or {"id": "r-1", "status": "ok"})


def test_an_event_is_delivered_signed_and_the_library_verifies_it(
    owner, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url)
    event = _publish(owner, django_capture_on_commit_callbacks, data={"id": "r-1", "n": 1})

    [request] = receiver.wait_for(1)
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload == {
        "id": event.id,
        "type": "training.succeeded",
        "created_at": event.created_at.isoformat().replace("+00:00", "Z"),
        "data": {"id": "r-1", "n": 1},
    }
    assert request.headers["webhook-id"] == event.id and event.id.startswith("evt_")
    assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 10
    assert request.headers["content-type"] == "application/json"
    # Another secret does not verify it: the signature is really over this body with this key.
    with pytest.raises(WebhookVerificationError):
        Webhook("whsec_" + "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=").verify(
            request.body, request.headers
        )
    tampered = request.body.replace(b'"n":1', b'"n":2')
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(tampered, request.headers)

    delivery = EventDelivery.objects.get(event=event)
    assert (
        delivery.status,
        delivery.attempts,
        delivery.response_status,
    ) == (Status.SUCCEEDED, 1, 200)
    assert delivery.next_attempt_at is None and delivery.completed_at is not None


def test_only_subscribed_enabled_endpoints_of_the_owner_get_the_event(
    owner, other_user, make_receiver, endpoint_for, django_capture_on_commit_callbacks
):
    subscribed, unsubscribed, disabled, strangers = (make_receiver() for _ in range(4))
    endpoint_for(subscribed.url, event_types=["generation.failed"])
    endpoint_for(unsubscribed.url, event_types=["training.failed"])
    off = endpoint_for(disabled.url)
    off.is_enabled = False
    off.save()
    endpoint_for(strangers.url, user=other_user)

    _publish(owner, django_capture_on_commit_callbacks, type="generation.failed")

    assert len(subscribed.wait_for(1)) == 1
    assert unsubscribed.requests == disabled.requests == strangers.requests == []


def test_a_failed_attempt_is_retried_after_the_back_off_and_not_before(
    owner, make_receiver, endpoint_for, django_capture_on_commit_callbacks
):
    receiver = make_receiver(statuses=[500, 200])
    endpoint_for(receiver.url)
    before = timezone.now()
    event = _publish(owner, django_capture_on_commit_callbacks)
    delivery = EventDelivery.objects.get(event=event)
    assert (
        delivery.status,
        delivery.attempts,
        delivery.response_status,
    ) == (Status.PENDING, 1, 500)
    assert delivery.last_error == "HTTP 500."
    wait = (delivery.next_attempt_at - before).total_seconds()
    assert 4 <= wait <= 6.5  # 5 s ± 20 %

    # Not due yet: neither the task nor the sweep sends it.
    assert event_delivery_attempt(delivery_id=delivery.id) is None
    assert event_deliveries_send_due_task.delay().get() == 0
    assert len(receiver.requests) == 1

    EventDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    assert event_deliveries_send_due_task.delay().get() == 1  # the sweep sends what is due
    requests = receiver.wait_for(2)
    assert requests[0].headers["webhook-id"] == requests[1].headers["webhook-id"] == event.id
    assert requests[0].body == requests[1].body
    delivery.refresh_from_db()
    assert (
        delivery.status,
        delivery.attempts,
        delivery.response_status,
    ) == (Status.SUCCEEDED, 2, 200)


def test_the_back_off_grows_with_jitter_and_ends(settings):
    settings.EVENTS_RETRY_SCHEDULE_SECONDS = [5, 300, 1800, 7200, 18000, 36000, 36000]
    waits = [[services.retry_wait(attempt) for _ in range(50)] for attempt in range(1, 8)]
    for schedule, samples in zip(settings.EVENTS_RETRY_SCHEDULE_SECONDS, waits, strict=True):
        assert all(0.8 * schedule <= wait <= 1.2 * schedule for wait in samples)
        assert len({round(wait, 6) for wait in samples}) > 40  # jittered, not one value
    assert services.retry_wait(8) is None
    total_hours = sum(settings.EVENTS_RETRY_SCHEDULE_SECONDS) / 3600
    assert 24 <= total_hours <= 30  # retried for about a day


@pytest.mark.slow
def test_a_real_worker_retries_until_the_receiver_answers(
    owner, make_receiver, endpoint_for, events_worker
):
    """Fails twice, then succeeds: the worker's own countdowns (about 1 s here) bring it back."""
    receiver = make_receiver(statuses=[503, 500, 200])
    endpoint_for(receiver.url)
    event = event_publish(user=owner, type="export.ready", data={"id": "x"})  # autocommit

    requests = receiver.wait_for(3, timeout=30)
    assert {r.headers["webhook-id"] for r in requests} == {event.id}
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(requests)]
    assert all(gap >= 0.7 for gap in gaps), gaps  # 1 s − 20 %, never at once
    delivery = wait_until(
        lambda: EventDelivery.objects.filter(event=event, status=Status.SUCCEEDED).first(),
        message="the delivery was not marked delivered",
    )
    assert (delivery.attempts, delivery.response_status) == (3, 200)
    assert len(receiver.requests) == 3  # nothing after the success


def test_an_endpoint_that_keeps_failing_is_disabled_and_says_why(
    owner, settings, as_user, make_receiver, endpoint_for, django_capture_on_commit_callbacks
):
    settings.EVENTS_DISABLE_AFTER_FAILURES = 3
    receiver = make_receiver(statuses=[500])
    endpoint = endpoint_for(receiver.url)
    for _ in range(3):
        _publish(owner, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled
    assert "the last 3 attempts failed" in endpoint.disabled_reason
    # What was waiting for a retry is not sent to it any more.
    assert set(EventDelivery.objects.values_list("status", flat=True)) == {Status.FAILED}
    _publish(owner, django_capture_on_commit_callbacks)
    assert len(receiver.requests) == 3

    shown = as_user(owner).get(f"/api/v1/event-endpoints/{endpoint.id}/").json()
    assert shown["is_enabled"] is False
    assert shown["disabled_reason"] == endpoint.disabled_reason

    # Enabled again by its owner: counted afresh, and events reach it.
    response = as_user(owner).patch(
        f"/api/v1/event-endpoints/{endpoint.id}/", {"is_enabled": True}, format="json"
    )
    assert response.status_code == 200 and response.json()["disabled_reason"] == ""
    receiver.statuses = [200]
    _publish(owner, django_capture_on_commit_callbacks)
    assert len(receiver.wait_for(4)) == 4


def test_an_endpoint_failing_for_a_day_is_disabled(
    owner, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    receiver.statuses = [500]
    endpoint = endpoint_for(receiver.url)
    endpoint.failing_since = timezone.now() - timedelta(hours=25)
    endpoint.consecutive_failures = 6
    endpoint.save()
    _publish(owner, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert not endpoint.is_enabled
    assert "over 25.0 hours" in endpoint.disabled_reason


def test_a_success_resets_the_failure_count(
    owner, settings, make_receiver, endpoint_for, django_capture_on_commit_callbacks
):
    settings.EVENTS_DISABLE_AFTER_FAILURES = 2
    receiver = make_receiver(statuses=[500, 200, 500])
    endpoint = endpoint_for(receiver.url)
    for _ in range(3):
        _publish(owner, django_capture_on_commit_callbacks)
    endpoint.refresh_from_db()
    assert endpoint.is_enabled and endpoint.consecutive_failures == 1


def test_a_delivery_whose_retries_ran_out_is_failed_and_can_be_replayed(
    owner, settings, as_user, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    settings.EVENTS_RETRY_SCHEDULE_SECONDS = [5]
    receiver.statuses = [500]
    endpoint = endpoint_for(receiver.url)
    event = _publish(owner, django_capture_on_commit_callbacks)
    delivery = EventDelivery.objects.get(event=event)
    EventDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())
    event_delivery_attempt(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert delivery.status == Status.FAILED
    assert (delivery.attempts, delivery.next_attempt_at) == (2, None)

    receiver.statuses = [500, 500, 200]
    client = as_user(owner)
    url = f"/api/v1/event-endpoints/{endpoint.id}/deliveries/{delivery.id}/replay/"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 202
    replay = EventDelivery.objects.get(pk=response.json()["id"])
    assert replay.replay_of_id == delivery.id and replay.status == Status.SUCCEEDED
    requests = receiver.wait_for(3)
    assert json.loads(requests[2].body)["id"] == event.id
    Webhook(endpoint.secret).verify(requests[2].body, requests[2].headers)

    log = client.get(f"/api/v1/event-endpoints/{endpoint.id}/deliveries/").json()
    assert [(row["status"], row["attempts"]) for row in log["results"]] == [
        ("succeeded", 1),
        ("failed", 2),
    ]
    assert log["results"][1]["response_status"] == 500


def test_after_a_rotation_both_secrets_sign_for_a_while(
    owner, settings, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url)
    old_secret = endpoint.secret
    endpoint = services.event_endpoint_secret_rotate(endpoint=endpoint)
    assert endpoint.secret != old_secret
    _publish(owner, django_capture_on_commit_callbacks)
    [request] = receiver.wait_for(1)
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(endpoint.secret).verify(request.body, request.headers)
    Webhook(old_secret).verify(request.body, request.headers)

    endpoint.previous_secret_expires_at = timezone.now() - timedelta(seconds=1)
    endpoint.save()
    _publish(owner, django_capture_on_commit_callbacks)
    request = receiver.wait_for(2)[1]
    Webhook(endpoint.secret).verify(request.body, request.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(request.body, request.headers)


@pytest.mark.django_db(transaction=True)
def test_two_workers_attempting_at_once_send_once(owner, make_receiver, endpoint_for):
    receiver = make_receiver(pause_seconds=0.5)
    endpoint = endpoint_for(receiver.url)
    event = Event.objects.create(owner=owner, type="export.ready", data={})
    delivery = EventDelivery.objects.create(event=event, endpoint=endpoint, owner=owner)
    results = []

    def attempt():
        try:
            results.append(event_delivery_attempt(delivery_id=delivery.id))
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(result is None for result in results) == [False, True]
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.SUCCEEDED, 1)


def test_beat_sends_the_due_deliveries_every_minute():
    """Waits longer than a countdown (COUNTDOWN_MAX_SECONDS) are left to this sweep."""
    celery_app.finalize(auto=True)
    [entry] = [
        entry
        for entry in celery_app.conf.beat_schedule.values()
        if entry["task"] == "events.tasks.event_deliveries_send_due_task"
    ]
    assert entry["schedule"] <= 60
    assert entry["task"] in celery_app.tasks  # the name names a task the worker knows
