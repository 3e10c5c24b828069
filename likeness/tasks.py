"""Background work of the likeness app."""

from celery import shared_task

from . import services


@shared_task(acks_late=True, reject_on_worker_lost=True)
def selfies_expire_task() -> int:
    """Hourly (config.celery): selfies never used past SELFIE_KEEP_HOURS."""
    return services.selfies_expire()
