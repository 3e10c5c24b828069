"""Reads of the trainings app; every one is scoped to the owner (another user's object: 404)."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Dataset, DatasetImage, LoraModel, TrainingRun
from .quality import DatasetReport, ImageMeasurements, ReportImage, build_report


def dataset_list(*, user) -> QuerySet[Dataset]:
    return Dataset.objects.filter(owner=user).annotate(
        image_count=Count("images", filter=~Q(images__status=DatasetImage.Status.REJECTED)),
        pending_count=Count("images", filter=Q(images__status=DatasetImage.Status.PENDING)),
    )


def dataset_get(*, user, dataset_id) -> Dataset:
    return get_object_or_404(dataset_list(user=user), pk=dataset_id)


def dataset_image_list(*, dataset: Dataset) -> QuerySet[DatasetImage]:
    return dataset.images.order_by("created_at")


def dataset_image_get(*, user, dataset_id, image_id) -> DatasetImage:
    return get_object_or_404(
        DatasetImage.objects.select_related("dataset"),
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
    return get_object_or_404(lora_model_list(user=user), pk=model_id)


def training_run_list(*, user) -> QuerySet[TrainingRun]:
    return TrainingRun.objects.filter(owner=user).select_related("lora_model", "dataset")


def training_run_get(*, user, run_id) -> TrainingRun:
    return get_object_or_404(training_run_list(user=user), pk=run_id)
