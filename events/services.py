"""Writes of the events app: publishing an event, the endpoints, and each delivery's attempts.

`event_publish` records an event and, in the same transaction, a pending delivery for every
enabled endpoint of its owner subscribed to its type; the deliveries' tasks are sent after
commit. A delivery is attempted by a worker (`event_delivery_attempt`), never in a request:
claimed by a conditional UPDATE (two workers never send the same attempt), signed the Standard
Webhooks way, sent through `events.http` (public addresses only, a timeout), and tried again
after 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (with jitter) until the endpoint answers 2xx.
An endpoint whose every attempt failed for a day (or N times in a row) is disabled, and says why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core.exceptions import Conflict, InvalidInput, LimitExceeded

from . import http
from .models import PING, Event, EventDelivery, EventEndpoint, EventType, endpoint_secret

logger = logging.getLogger(__name__)

Status = EventDelivery.Status
USER_AGENT = "Avatars-Webhooks/1.0"


# --- Publishing -----------------------------------------------------------------------------


def event_publish(*, user, type: str, data: dict) -> Event:
    """Record an event for `user` (the stream sends it) and queue its deliveries.

    Call it inside the transaction of the change it reports: the event exists if and only if the
    change committed. Sending the tasks can never fail the caller: a task the broker did not
    take is sent by the sweep (`event_deliveries_send_due`).
    """
    with transaction.atomic():
        event = Event.objects.create(owner=user, type=type, data=data)
        endpoints = [
            endpoint
            for endpoint in EventEndpoint.objects.filter(owner=user, is_enabled=True)
            if type in endpoint.event_types
        ]
        deliveries = EventDelivery.objects.bulk_create(
            EventDelivery(event=event, endpoint=endpoint, owner=user) for endpoint in endpoints
        )
        _attempts_enqueue_on_commit([delivery.id for delivery in deliveries])
    return event


def _attempts_enqueue_on_commit(delivery_ids: list) -> None:
    if not delivery_ids:
        return

    def enqueue() -> None:
        from .tasks import event_delivery_attempt_task  # the tasks module imports this one

        for delivery_id in delivery_ids:
            try:
                event_delivery_attempt_task.delay(str(delivery_id))
            except Exception as error:  # the broker is down: the sweep sends it when it is due
                logger.warning("delivery %s not enqueued (the sweep will): %r", delivery_id, error)

    transaction.on_commit(enqueue, robust=True)


# --- Endpoints ------------------------------------------------------------------------------


def _checked(*, url: str | None, event_types: list[str] | None) -> None:
    errors: dict[str, list[str]] = {}
    if url is not None and (problem := http.url_problem(url)):
        errors["url"] = [problem]
    if event_types is not None:
        unknown = sorted(set(event_types) - set(EventType.values))
        if unknown:
            errors["event_types"] = [f"Unknown event type: {', '.join(unknown)}."]
        elif not event_types:
            errors["event_types"] = ["Choose at least one event type."]
    if errors:
        raise InvalidInput(errors)


def event_endpoint_create(
    *, user, url: str, event_types: list[str], description: str = ""
) -> EventEndpoint:
    """A new endpoint; its secret is in the returned object, to be shown this once."""
    _checked(url=url, event_types=event_types)
    if EventEndpoint.objects.filter(owner=user).count() >= settings.EVENTS_MAX_ENDPOINTS_PER_USER:
        raise LimitExceeded(
            f"You can have at most {settings.EVENTS_MAX_ENDPOINTS_PER_USER} endpoints.",
            code="endpoint_limit",
        )
    return EventEndpoint.objects.create(
        owner=user,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
    )


def event_endpoint_update(
    *,
    endpoint: EventEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    is_enabled: bool | None = None,
) -> EventEndpoint:
    """Change an endpoint; enabling a disabled one starts its failure count afresh."""
    _checked(url=url, event_types=event_types)
    if url is not None:
        endpoint.url = url
    if event_types is not None:
        endpoint.event_types = sorted(set(event_types))
    if description is not None:
        endpoint.description = description
    if is_enabled is True and not endpoint.is_enabled:
        endpoint.is_enabled = True
        endpoint.disabled_reason = ""
        endpoint.disabled_at = None
        endpoint.failing_since = None
        endpoint.consecutive_failures = 0
    elif is_enabled is False and endpoint.is_enabled:
        endpoint.is_enabled = False
        endpoint.disabled_reason = "Disabled by you."
        endpoint.disabled_at = timezone.now()
    endpoint.save()
    return endpoint


def event_endpoint_delete(*, endpoint: EventEndpoint) -> None:
    endpoint.delete()  # its deliveries go with it


def event_endpoint_secret_rotate(*, endpoint: EventEndpoint) -> EventEndpoint:
    """A new secret, returned this once; the old one still signs (a second signature) for
    EVENTS_SECRET_ROTATION_OVERLAP_SECONDS, so the receiver can switch without losing events."""
    with transaction.atomic():
        endpoint = EventEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        endpoint.previous_secret = endpoint.secret
        endpoint.previous_secret_expires_at = timezone.now() + timedelta(
            seconds=settings.EVENTS_SECRET_ROTATION_OVERLAP_SECONDS
        )
        endpoint.secret = endpoint_secret()
        endpoint.save()
    return endpoint


def event_endpoint_ping(*, endpoint: EventEndpoint) -> EventDelivery:
    """Send a test event (`ping`) to this endpoint only."""
    if not endpoint.is_enabled:
        raise Conflict("This endpoint is disabled: enable it first.", code="endpoint_disabled")
    with transaction.atomic():
        event = Event.objects.create(
            owner_id=endpoint.owner_id,
            type=PING,
            data={"endpoint_id": str(endpoint.id), "message": "A test event."},
        )
        delivery = EventDelivery.objects.create(
            event=event, endpoint=endpoint, owner_id=endpoint.owner_id
        )
        _attempts_enqueue_on_commit([delivery.id])
    return delivery


def event_delivery_replay(*, delivery: EventDelivery) -> EventDelivery:
    """Send a delivery's event again, as a new delivery (the log keeps both)."""
    endpoint = delivery.endpoint
    if not endpoint.is_enabled:
        raise Conflict("This endpoint is disabled: enable it first.", code="endpoint_disabled")
    with transaction.atomic():
        replay = EventDelivery.objects.create(
            event_id=delivery.event_id,
            endpoint=endpoint,
            owner_id=delivery.owner_id,
            replay_of=delivery,
        )
        _attempts_enqueue_on_commit([replay.id])
    return replay


# --- Attempts -------------------------------------------------------------------------------


def signature_headers(*, message_id: str, timestamp: int, body: bytes, secrets: list[str]) -> dict:
    """Standard Webhooks: `v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, one per secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    signatures = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        digest = hmac.new(key, signed, hashlib.sha256).digest()
        signatures.append("v1," + base64.b64encode(digest).decode())
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signatures),
    }


def retry_wait(attempts: int) -> float | None:
    """Seconds before the attempt after `attempts` failed ones (±20 % jitter, so that what one
    outage failed does not all come back at once); None when no attempt is left."""
    schedule = settings.EVENTS_RETRY_SCHEDULE_SECONDS
    if attempts > len(schedule):
        return None
    return schedule[attempts - 1] * random.uniform(0.8, 1.2)


def _lease() -> timedelta:
    return timedelta(seconds=settings.EVENTS_DELIVERY_TIMEOUT_SECONDS + 30)


def event_delivery_attempt(*, delivery_id) -> EventDelivery | None:
    """Make the delivery's next attempt if it is due; None when it is not (or no longer) due.

    Safe to run twice at once: the first claims it, the second finds nothing due.
    """
    now = timezone.now()
    claimed = EventDelivery.objects.filter(
        pk=delivery_id, status=Status.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=now + _lease())
    if not claimed:
        return None
    delivery = EventDelivery.objects.select_related("event", "endpoint").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_enabled:
        _delivery_end(delivery, status=Status.FAILED, error="The endpoint is disabled.")
        return delivery
    body = json.dumps(delivery.event.payload(), separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        **signature_headers(
            message_id=delivery.event.id,
            timestamp=int(time.time()),
            body=body,
            secrets=endpoint.signing_secrets(),
        ),
    }
    answer = http.post(endpoint.url, body=body, headers=headers)
    attempted = timezone.now()
    fields = {
        "attempts": F("attempts") + 1,
        "last_attempt_at": attempted,
        "response_status": answer.status,
        "last_error": answer.error,
        "duration_ms": answer.duration_ms,
    }
    if answer.ok:
        _delivery_end(delivery, status=Status.SUCCEEDED, **fields)
        EventEndpoint.objects.filter(pk=endpoint.pk).update(
            failing_since=None, consecutive_failures=0, last_success_at=attempted
        )
        return delivery
    wait = retry_wait(delivery.attempts + 1)
    if wait is None:
        _delivery_end(delivery, status=Status.FAILED, **fields)
    else:
        EventDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=attempted + timedelta(seconds=wait), **fields
        )
        delivery.refresh_from_db()
    logger.info("delivery %s to %s failed: %s", delivery.pk, endpoint.pk, answer.error)
    _endpoint_failed(endpoint_id=endpoint.pk, at=attempted)
    return delivery


def _delivery_end(delivery: EventDelivery, *, status: str, error: str | None = None, **fields):
    if error is not None:
        fields["last_error"] = error
    EventDelivery.objects.filter(pk=delivery.pk).update(
        status=status, next_attempt_at=None, completed_at=timezone.now(), **fields
    )
    delivery.refresh_from_db()


@transaction.atomic
def _endpoint_failed(*, endpoint_id, at) -> None:
    endpoint = EventEndpoint.objects.select_for_update().get(pk=endpoint_id)
    endpoint.consecutive_failures += 1
    endpoint.failing_since = endpoint.failing_since or at
    fields = ["consecutive_failures", "failing_since", "updated_at"]
    failing_for = at - endpoint.failing_since
    limit = timedelta(seconds=settings.EVENTS_DISABLE_AFTER_FAILING_SECONDS)
    if endpoint.is_enabled and (
        endpoint.consecutive_failures >= settings.EVENTS_DISABLE_AFTER_FAILURES
        or (failing_for >= limit and endpoint.consecutive_failures > 1)
    ):
        hours = failing_for.total_seconds() / 3600
        endpoint.is_enabled = False
        endpoint.disabled_at = at
        endpoint.disabled_reason = (
            f"Disabled automatically on {at:%Y-%m-%d %H:%M} UTC: the last "
            f"{endpoint.consecutive_failures} attempts failed, over {hours:.1f} hours. "
            "Fix the endpoint, then enable it again."
        )
        fields += ["is_enabled", "disabled_at", "disabled_reason"]
        # What was still waiting is not sent to an endpoint that does not work.
        EventDelivery.objects.filter(endpoint=endpoint, status=Status.PENDING).update(
            status=Status.FAILED,
            next_attempt_at=None,
            completed_at=at,
            last_error="The endpoint was disabled.",
        )
        logger.warning("endpoint %s disabled: %s", endpoint.pk, endpoint.disabled_reason)
    endpoint.save(update_fields=fields)


def event_deliveries_due(*, limit: int = 500) -> list[str]:
    """Pending deliveries whose attempt is due (their task waits for it, was lost, or the wait
    was too long for a countdown)."""
    due = EventDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=timezone.now())
    return [str(pk) for pk in due.order_by("next_attempt_at").values_list("pk", flat=True)[:limit]]


def events_prune() -> int:
    """Delete events (and their deliveries) older than EVENTS_KEEP_DAYS."""
    cutoff = timezone.now() - timedelta(days=settings.EVENTS_KEEP_DAYS)
    old = Event.objects.filter(created_at__lt=cutoff).exclude(deliveries__status=Status.PENDING)
    deleted, _ = Event.objects.filter(
        seq__in=list(old.values_list("seq", flat=True)[:5000])
    ).delete()
    return deleted
