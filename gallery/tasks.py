"""Celery tasks of the gallery app: each takes ids, re-reads, and is safe to run twice."""

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Generation


@shared_task(acks_late=True)
def generation_not_started_notify_task(generation_id: str) -> None:
    """E-mail the owner of a generation that failed because Replicate did not answer in time.

    Other failures are shown on the page the person is waiting on; this one comes after the
    retry window (minutes), when they may have left."""
    generation = Generation.objects.select_related("owner").filter(pk=generation_id).first()
    if generation is None or generation.status != Generation.Status.FAILED:
        return
    context = {
        "generation": generation,
        "user": generation.owner,
        "url": settings.PUBLIC_BASE_URL + reverse("gallery:generation", args=[generation.id]),
    }
    send_mail(
        subject="Your pictures could not be started",
        message=render_to_string("gallery/email/generation_not_started.txt", context),
        from_email=None,
        recipient_list=[generation.owner.email],
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def image_rescan_task(image_id: str) -> None:
    """Scan again an image held because its scan timed out or failed (see the service)."""
    from .models import GeneratedImage
    from .services.review import image_rescan  # the services import this module

    image = GeneratedImage.objects.select_related("generation").filter(pk=image_id).first()
    if image is not None:
        image_rescan(image=image)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def starter_pack_make_task(lora_model_id: str) -> None:
    """Make the starter pack of a model whose training just succeeded (once: see the service)."""
    from .services.starter_pack import starter_pack_make  # the services import this module

    starter_pack_make(lora_model_id=lora_model_id)


@shared_task(acks_late=True)
def starter_packs_resume_task() -> int:
    """Packs whose making task was lost (see `starter_packs_resume`)."""
    from datetime import timedelta

    from django.utils import timezone

    from .services.starter_pack import starter_packs_resume

    return starter_packs_resume(older_than=timezone.now() - timedelta(minutes=5))
