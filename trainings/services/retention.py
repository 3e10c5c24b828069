"""How long training photos are kept: TRAINING_PHOTOS_KEEP_DAYS after the last training that
used them ended. Then they are deleted (files and rows; the dataset keeps its name and says
when), by a beat task. The model keeps working: its weights are on Replicate, not the photos.
A person can keep the photos longer, or delete them at once; while a training of the dataset is
running, its photos are needed and nothing is deleted.

This is the promise the privacy page makes: change both together.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core.exceptions import Conflict

from ..models import Dataset, TrainingRun
from ..selectors import photos_keep_for
from .datasets import dataset_image_delete

logger = logging.getLogger(__name__)


def _training_running(dataset: Dataset) -> bool:
    return TrainingRun.objects.filter(dataset=dataset, status__in=TrainingRun.ACTIVE).exists()


def dataset_keep_photos_set(*, dataset: Dataset, keep: bool) -> Dataset:
    dataset.keep_photos = keep
    dataset.save(update_fields=["keep_photos", "updated_at"])
    return dataset


def dataset_photos_delete(*, dataset: Dataset) -> int:
    """Delete every photo of the dataset now (files and rows); how many. The dataset stays,
    marked as emptied. Refused while one of its trainings runs (it reads the photos)."""
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if _training_running(locked):
            raise Conflict("A training is using these photos. Delete them once it has ended.")
        images = list(locked.images.all())
        for image in images:
            dataset_image_delete(image=image)
        locked.photos_deleted_at = timezone.now()
        locked.keep_photos = False
        locked.save(update_fields=["photos_deleted_at", "keep_photos", "updated_at"])
    dataset.photos_deleted_at, dataset.keep_photos = locked.photos_deleted_at, False
    return len(images)


def dataset_photos_expire(*, now: datetime | None = None) -> int:
    """Beat: delete the photos of every dataset whose last training ended more than
    TRAINING_PHOTOS_KEEP_DAYS ago (unless kept); how many datasets were emptied."""
    now = now or timezone.now()
    due = (
        Dataset.objects.filter(keep_photos=False, photos_deleted_at__isnull=True)
        .annotate(last_training=Max("training_runs__completed_at"))
        .filter(last_training__lt=now - photos_keep_for())
        .exclude(training_runs__status__in=TrainingRun.ACTIVE)
    )
    emptied = 0
    for dataset in due:
        try:
            count = dataset_photos_delete(dataset=dataset)
        except Conflict:  # a training started meanwhile
            continue
        logger.info("dataset %s: %d training photo(s) deleted (retention)", dataset.pk, count)
        emptied += 1
    return emptied
