"""The `data` of each event: a compact form of the object (its id, status and API URL), built
from the object the calling app passes. Nothing here imports those apps: they import us."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse


def _api_url(name: str, **kwargs) -> str:
    return settings.PUBLIC_BASE_URL + reverse(f"api:{name}", kwargs=kwargs)


def _time(value) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def training_run(run) -> dict:
    return {
        "id": str(run.id),
        "status": run.status,
        "model": str(run.lora_model_id),
        "error_message": run.error_message or "",
        "completed_at": _time(run.completed_at),
        "url": _api_url("training-detail", run_id=run.id),
        "model_url": _api_url("model-detail", model_id=run.lora_model_id),
    }


def image(picture) -> dict:
    return {
        "id": str(picture.id),
        "generation_id": str(picture.generation_id),
        "moderation_state": picture.moderation_state,
        "moderation_reason": picture.moderation_reason or "",
        "url": _api_url("gallery-image-detail", image_id=picture.id),
    }


def generation(job) -> dict:
    return {
        "id": str(job.id),
        "status": job.status,
        "error_message": job.error_message or "",
        "completed_at": _time(job.completed_at),
        "url": _api_url("gallery-generation-detail", generation_id=job.id),
        "images": [image(picture) for picture in job.images.order_by("index")],
    }


def data_export(export) -> dict:
    return {
        "id": str(export.id),
        "status": export.status,
        "size_bytes": export.size_bytes,
        "expires_at": _time(export.expires_at),
        "url": _api_url("me-export-detail", export_id=export.id),
        "download_url": _api_url("me-export-download", export_id=export.id),
    }
