from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from .models import WebhookDelivery


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
