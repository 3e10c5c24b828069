from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import WebhookDelivery


def webhook_delivery_accept(
    *, webhook_id: str, remote_id: str, remote_status: str, enqueue: Callable[[], None]
) -> bool:
    """Accept a webhook delivery once; False when this id was accepted before (a replay or a
    retry), and then nothing is enqueued.

    The work is enqueued first, the delivery recorded after, so a recorded delivery always
    has its task. Run it outside any transaction, so that `enqueue` sends at once: when the
    broker refuses, its error propagates, nothing is recorded and the sender's retry (the same
    id) is accepted later. If the process dies between the two steps, the retry enqueues
    again; the tasks a webhook enqueues re-read the remote state, so running twice is harmless.
    """
    if WebhookDelivery.objects.filter(webhook_id=webhook_id).exists():
        return False
    enqueue()
    return webhook_delivery_record(
        webhook_id=webhook_id, remote_id=remote_id, remote_status=remote_status
    )


def webhook_delivery_record(*, webhook_id: str, remote_id: str, remote_status: str) -> bool:
    """Record a webhook delivery; False when this id was seen before (a replay or a retry)."""
    try:
        with transaction.atomic():
            WebhookDelivery.objects.create(
                webhook_id=webhook_id, remote_id=remote_id, remote_status=remote_status
            )
    except IntegrityError:
        return False
    return True


def webhook_delivery_prune(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Forget old deliveries; ids older than the signature tolerance can no longer be replayed."""
    deleted, _ = WebhookDelivery.objects.filter(
        received_at__lt=timezone.now() - older_than
    ).delete()
    return deleted
