"""Reads of the trainings app; every one is scoped to the owner.

Another user's object, a missing one and a malformed id are all the same NotFound (a 404).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import CreditEntry
from core.exceptions import NotFound
from likeness.faces import Face
from likeness.models import IdentityCheck

from .models import Dataset, DatasetImage, LoraModel, TrainingRun
from .quality import MIN_IMAGES, DatasetReport, ImageMeasurements, ReportImage, build_report


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
                    faces=_stored_faces(image),
                    subject_face=image.subject_face,
                )
            )
    return build_report(entries, face_consent=dataset.face_consent_at is not None)


def _stored_faces(image: DatasetImage) -> tuple[Face, ...] | None:
    """The faces the worker stored on a photo; None when they were not looked for."""
    if image.faces_checked_at is None:
        return None
    return tuple(Face.from_json(face) for face in image.faces)


def lora_model_list(*, user) -> QuerySet[LoraModel]:
    return LoraModel.objects.filter(owner=user).select_related("current_version")


def lora_model_get(*, user, model_id) -> LoraModel:
    return _one(lora_model_list(user=user), "No such model among yours.", pk=model_id)


def training_run_list(*, user) -> QuerySet[TrainingRun]:
    # A held run's check comes along, so a page of runs says why each waits in one query.
    waiting = IdentityCheck.objects.filter(outcome=IdentityCheck.Outcome.WAITING)
    return (
        TrainingRun.objects.filter(owner=user)
        .select_related("lora_model", "dataset")
        .prefetch_related(Prefetch("identity_checks", queryset=waiting, to_attr="waiting_checks"))
    )


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


def dataset_ready_newest(*, user) -> Dataset | None:
    """The newest of the user's datasets that can be trained now: photos all checked and the
    quality report without a blocking finding, whatever its position.

    The counts rule out most datasets in the one query that lists the candidates, newest first,
    so only those with enough checked photos get their report read (one query each), and the
    first that passes ends the search."""
    candidates = (
        dataset_list(user=user)
        .filter(pending_count=0, image_count__gte=MIN_IMAGES)
        .order_by("-created_at", "-pk")
    )
    for dataset in candidates:
        if dataset_report(dataset=dataset).can_train:
            return dataset
    return None


def training_run_progress(*, run: TrainingRun) -> dict:
    """What the live status of a run shows: elapsed and remaining seconds, percent, logs."""
    now = timezone.now()
    started = run.started_at or run.submitted_at
    end = run.completed_at or now
    elapsed = (end - started).total_seconds() if started else 0
    remaining = None
    if run.status == TrainingRun.Status.PROCESSING and 0 < run.progress < 1 and elapsed:
        remaining = elapsed * (1 - run.progress) / run.progress
    return {
        "run": run,
        "elapsed": int(elapsed),
        "remaining": int(remaining) if remaining is not None else None,
        "log_lines": run.logs.splitlines()[-12:],
        "percent": int(run.progress * 100),
    }


@dataclass(frozen=True)
class TrainingRunCredits:
    """Where the credits of one run stand, from the ledger (accounts.models.CreditEntry).

    `state`: reserved (held while it runs), charged (spent on success), refunded (given back
    on a failure or a cancel), settling (ended, its settlement not written yet) or none
    (nothing was reserved: a run made before credits existed, or free)."""

    state: str
    reserved: int = 0
    charged: int = 0
    refunded: int = 0


def training_run_credits(*, run: TrainingRun) -> TrainingRunCredits:
    reservation = (
        CreditEntry.objects.filter(
            user_id=run.owner_id, kind=CreditEntry.Kind.RESERVE, reference=run.credit_reference
        )
        .select_related("settlement")
        .first()
    )
    if reservation is None:
        return TrainingRunCredits(state="none")
    reserved = -reservation.amount
    settlement = getattr(reservation, "settlement", None)
    if settlement is None:
        # Once the run has ended its credits are being settled, not held any more.
        return TrainingRunCredits(
            state="settling" if run.is_terminal else "reserved", reserved=reserved
        )
    if settlement.kind == CreditEntry.Kind.REFUND:
        return TrainingRunCredits(state="refunded", reserved=reserved, refunded=settlement.amount)
    return TrainingRunCredits(state="charged", reserved=reserved, charged=reserved)
