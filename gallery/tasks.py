"""Celery tasks of the gallery app: each takes ids, re-reads, calls one service, is safe twice."""

import logging

from celery import shared_task

from core.replicate_gateway import ReplicateServiceError, ReplicateUnavailable

from . import services
from .models import Generation

logger = logging.getLogger(__name__)

_MAX_RETRIES = 6


def _countdown(retries: int) -> int:
    return min(2 ** (retries + 1), 300)


@shared_task(bind=True, acks_late=True)
def generation_submit_task(self, generation_id: str) -> None:
    try:
        services.generation_submit(generation_id=generation_id)
    except ReplicateUnavailable as error:
        if self.request.retries < _MAX_RETRIES:
            raise self.retry(exc=error, countdown=_countdown(self.request.retries)) from error
        _fail(generation_id, error.message)
    except ReplicateServiceError as error:
        _fail(generation_id, error.message)


def _fail(generation_id: str, message: str) -> None:
    generation = Generation.objects.filter(
        pk=generation_id, status=Generation.Status.QUEUED
    ).first()
    if generation is not None:
        services.generation_fail(generation=generation, message=message)


@shared_task(bind=True, acks_late=True)
def generation_refresh_task(self, replicate_prediction_id: str) -> None:
    """Re-read a prediction and apply it (webhook handler and reconciliation enqueue this)."""
    try:
        services.generation_refresh(replicate_prediction_id=replicate_prediction_id)
    except ReplicateUnavailable as error:
        # The reconciliation task polls again later if every retry fails.
        if self.request.retries < _MAX_RETRIES:
            raise self.retry(exc=error, countdown=_countdown(self.request.retries)) from error
        logger.warning("refresh of prediction %s failed: %s", replicate_prediction_id, error)


@shared_task(acks_late=True)
def generations_reconcile_task() -> int:
    return services.generations_reconcile()
