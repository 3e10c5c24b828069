"""Celery tasks of the trainings app: each takes ids, re-reads, calls one service, is safe twice."""

import logging

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from . import services
from .models import TrainingRun

logger = logging.getLogger(__name__)


@shared_task(acks_late=True)
def dataset_image_process_task(image_id: str) -> None:
    services.dataset_image_process(image_id=image_id)


@shared_task(acks_late=True)
def dataset_faces_backfill_task(dataset_id: str) -> int:
    """Consent given after photos were added: compute their faces now."""
    return services.dataset_faces_backfill(dataset_id=dataset_id)


@shared_task(acks_late=True)
def dataset_photos_expire_task() -> int:
    """Beat: delete training photos kept past TRAINING_PHOTOS_KEEP_DAYS."""
    return services.dataset_photos_expire()


@shared_task(acks_late=True)
def training_run_notify_task(run_id: str) -> None:
    """E-mail the owner of a run that has ended: ready to use, or failed (and refunded)."""
    run = TrainingRun.objects.select_related("owner", "lora_model").filter(pk=run_id).first()
    if run is None or run.status not in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.FAILED):
        return
    context = {
        "run": run,
        "user": run.owner,
        "model": run.lora_model,
        "url": f"{settings.PUBLIC_BASE_URL}/trainings/runs/{run.id}/",
    }
    if run.status == TrainingRun.Status.SUCCEEDED:
        subject = f"Your model “{run.lora_model.name}” is ready"
        template = "trainings/email/training_succeeded.txt"
    else:
        subject = f"The training of “{run.lora_model.name}” did not finish"
        template = "trainings/email/training_failed.txt"
    send_mail(
        subject=subject,
        message=render_to_string(template, context),
        from_email=None,
        recipient_list=[run.owner.email],
    )
