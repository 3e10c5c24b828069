"""Reads of the trainings app; every one is scoped to the owner.

Another user's object, a missing one and a malformed id are all the same NotFound (a 404).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet

from core.exceptions import NotFound

from .models import Dataset, DatasetImage, LoraModel, TrainingRun
from .quality import DatasetReport, ImageMeasurements, ReportImage, build_report


def _one(queryset: QuerySet, message: str, **lookups):
    """The one object of `queryset` matching `lookups`; NotFound when none (or a malformed id)."""
    try:
        return queryset.get(**lookups)
    except (queryset.model.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound(message) from error


def dataset_list(*, user) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=user).annotate(
        image_count=Count("images", filter=~Q(images__status=DatasetImage.Status.REJECTED)),
        pending_count=Count("images", filter=Q(images__status=DatasetImage.Status.PENDING)),
    )


def dataset_get(*, user, dataset_id) -> Dataset:
    return _one(dataset_list(user=user), "No such dataset among yours.", pk=dataset_id)


def dataset_image_list(*, dataset: Dataset) -> QuerySet[DatasetImage]:
    return dataset.images.order_by("created_at")


def dataset_image_get(*, user, dataset_id, image_id) -> DatasetImage:
    return _one(
        DatasetImage.objects.select_related("dataset"),
        "No such photo in your datasets.",
        pk=image_id,
        dataset_id=dataset_id,
        dataset__owner=user,
    )


def dataset_report(*, dataset: Dataset) -> DatasetReport:
    """The quality report over the processed photos (pending ones are not counted yet)."""
    entries = []
    for image in dataset.images.exclude(status=DatasetImage.Status.PENDING).order_by("created_at"):
        if image.status == DatasetImage.Status.REJECTED:
            entries.append(
                ReportImage(
                    name=image.original_name,
                    key=str(image.id),
                    refused_code=image.rejection_code or "rejected",
                    refused_message=image.rejection_message,
                )
            )
        elif image.measurements:
            entries.append(
                ReportImage(
                    name=image.original_name,
                    key=str(image.id),
                    measurements=ImageMeasurements.from_dict(image.measurements),
                    face_confirmed=image.face_confirmed,
                )
            )
    return build_report(entries)


def lora_model_list(*, user) -> QuerySet[LoraModel]:
    return LoraModel.objects.filter(owner=user).select_related("current_version")


def lora_model_get(*, user, model_id) -> LoraModel:
    return _one(lora_model_list(user=user), "No such model among yours.", pk=model_id)


def training_run_list(*, user) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.filter(owner=user).select_related("lora_model", "dataset")


def training_run_get(*, user, run_id) -> TrainingRun:
    return _one(training_run_list(user=user), "No such training among yours.", pk=run_id)


def photos_keep_for() -> timedelta:
    """How long training photos are kept after the last training that used them."""
    return timedelta(days=settings.TRAINING_PHOTOS_KEEP_DAYS)


def dataset_photos_expire_at(*, dataset: Dataset) -> datetime | None:
    """When the dataset's photos will be deleted (trainings.services.retention); None while
    they are kept: never trained, a training running, kept by the owner, or already deleted."""
    if dataset.keep_photos or dataset.photos_deleted_at:
        return None
    runs = TrainingRun.objects.filter(dataset=dataset)
    if runs.filter(status__in=TrainingRun.ACTIVE).exists():
        return None
    last = runs.filter(completed_at__isnull=False).aggregate(last=Max("completed_at"))["last"]
    return last + photos_keep_for() if last else None
