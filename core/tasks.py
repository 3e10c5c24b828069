"""Background work of core: tasks re-read what they need and are safe to run twice."""

from datetime import timedelta

from celery import shared_task
from django.conf import settings


@shared_task
def webhook_delivery_prune_task() -> int:
    """Forget webhook ids that can no longer be replayed; meant to run hourly from Celery beat."""
    from .replicate_gateway import WEBHOOK_TOLERANCE_SECONDS
    from .services import webhook_delivery_prune

    keep = timedelta(seconds=WEBHOOK_TOLERANCE_SECONDS, days=settings.WEBHOOK_DELIVERY_KEEP_DAYS)
    return webhook_delivery_prune(older_than=keep)


@shared_task
def idempotency_record_prune_task() -> int:
    """Forget Idempotency-Keys past their expiry; meant to run hourly from Celery beat."""
    from .idempotency import idempotency_record_prune

    return idempotency_record_prune()
