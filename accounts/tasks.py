"""Background work of accounts. Tasks take ids, re-read the rows and are safe to run twice."""

import logging

from celery import shared_task

from .deletion import account_erase
from .exports import data_export_build, data_export_fail, data_export_prune

logger = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(Exception,),
    retry_backoff=30,
    retry_backoff_max=30 * 60,
    retry_jitter=True,
    max_retries=12,
)
def account_delete_task(user_id: int) -> bool:
    return account_erase(user_id=user_id)


@shared_task(bind=True, max_retries=3)
def data_export_build_task(self, export_id: str) -> None:
    try:
        data_export_build(export_id=export_id)
    except Exception as error:
        if self.request.retries < self.max_retries and not self.request.is_eager:
            raise self.retry(exc=error, countdown=60 * (self.request.retries + 1)) from error
        logger.exception("data export %s failed", export_id)
        data_export_fail(
            export_id=export_id,
            reason="We could not build your export. Please ask for a new one later.",
        )


@shared_task
def data_export_prune_task() -> int:
    """Delete expired exports; meant to run hourly from Celery beat."""
    return data_export_prune()
