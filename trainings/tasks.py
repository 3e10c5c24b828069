"""Celery tasks of the trainings app: each takes ids, re-reads, calls one service, is safe twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from core.replicate_gateway import ReplicateServiceError, ReplicateUnavailable

from . import services
from .models import TrainingRun

logger = logging.getLogger(__name__)

_RETRY = {"max_retries": 6, "retry_backoff": 2, "retry_backoff_max": 300, "retry_jitter": True}


@shared_task(acks_late=True)
def dataset_image_process_task(image_id: str) -> None:
    services.dataset_image_process(image_id=image_id)


@shared_task(bind=True, acks_late=True)
def training_run_submit_task(self, run_id: str) -> None:
    try:
        services.training_run_submit(run_id=run_id)
    except ReplicateUnavailable as error:
        if self.request.retries < _RETRY["max_retries"]:
            raise self.retry(
                exc=error, countdown=min(2 ** (self.request.retries + 1), 300)
            ) from error
        _fail(run_id, error.message)
    except ReplicateServiceError as error:
        _fail(run_id, error.message)


def _fail(run_id: str, message: str) -> None:
    run = TrainingRun.objects.filter(pk=run_id, status=TrainingRun.Status.QUEUED).first()
    if run is not None:
        services.runs.training_run_fail(run=run, message=message)


@shared_task(bind=True, acks_late=True)
def training_run_refresh_task(self, replicate_training_id: str) -> None:
    try:
        services.training_run_refresh(replicate_training_id=replicate_training_id)
    except ReplicateUnavailable as error:
        # The reconciliation task polls again later if every retry fails.
        if self.request.retries < _RETRY["max_retries"]:
            raise self.retry(
                exc=error, countdown=min(2 ** (self.request.retries + 1), 300)
            ) from error
        logger.warning("refresh of training %s failed: %s", replicate_training_id, error)


@shared_task(acks_late=True)
def training_runs_reconcile_task() -> int:
    return services.training_runs_reconcile()


@shared_task(acks_late=True)
def training_run_notify_task(run_id: str) -> None:
    run = TrainingRun.objects.select_related("owner", "lora_model").filter(pk=run_id).first()
    if run is None or run.status != TrainingRun.Status.SUCCEEDED:
        return
    context = {
        "run": run,
        "user": run.owner,
        "model": run.lora_model,
        "url": f"{settings.PUBLIC_BASE_URL}/trainings/runs/{run.id}/",
    }
    send_mail(
        subject=f"Your model “{run.lora_model.name}” is ready",
        message=render_to_string("trainings/email/training_succeeded.txt", context),
        from_email=None,
        recipient_list=[run.owner.email],
    )
