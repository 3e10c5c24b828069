"""Celery tasks of the events app: one delivery attempt, and the sweep (beat) that sends what is
due. Both take ids, re-read the rows and are safe to run twice (the attempt is claimed)."""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.utils import timezone

from . import services

logger = logging.getLogger(__name__)

# A wait up to this long is a countdown on the task; a longer one is left to the sweep, which
# looks every minute (a broker may deliver a message held that long more than once: Redis's
# visibility timeout is an hour).
COUNTDOWN_MAX_SECONDS = 600


class DeliveryTask(DjangoTask):
    acks_late = True
    reject_on_worker_lost = True


@shared_task(base=DeliveryTask, bind=True)
def event_delivery_attempt_task(self, delivery_id: str) -> None:
    delivery = services.event_delivery_attempt(delivery_id=delivery_id)
    if delivery is None or delivery.next_attempt_at is None or self.request.is_eager:
        return  # not due, or ended; run inline (tests), the next attempt is the caller's to drive
    wait = (delivery.next_attempt_at - timezone.now()).total_seconds()
    if wait <= COUNTDOWN_MAX_SECONDS:
        event_delivery_attempt_task.apply_async((delivery_id,), countdown=max(0.0, wait))


@shared_task(acks_late=True)
def event_deliveries_send_due_task() -> int:
    """Beat, every minute: send every delivery whose attempt is due, and prune old events."""
    due = services.event_deliveries_due()
    for delivery_id in due:
        event_delivery_attempt_task.delay(delivery_id)
    services.events_prune()
    return len(due)
