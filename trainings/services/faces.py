"""Face vectors of dataset photos (biometric data): computed in the worker only while the
dataset's owner consents, stored with each photo (`DatasetImage.faces`), deleted with it, and
all deleted at once when the consent is withdrawn. likeness.faces computes them, here.

The dataset row is locked whenever faces are stored or consent changes, so a photo finishing
its processing while consent is withdrawn cannot keep its vectors.
"""

from __future__ import annotations

import logging

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image

from core.broker import broker_ready_check
from core.limits import image_decode_slot
from likeness.faces import Face
from likeness.models import ModelIdentity

from ..imaging import faces_of
from ..models import Dataset, DatasetImage

logger = logging.getLogger(__name__)


def _photos_without_faces(dataset_id):
    return DatasetImage.objects.filter(
        dataset_id=dataset_id, status=DatasetImage.Status.READY, faces_checked_at__isnull=True
    ).exclude(training_file="")


def dataset_face_consent_set(*, dataset: Dataset, consent: bool) -> Dataset:
    """Give consent (faces are then computed for the photos already there, in the background)
    or withdraw it (every vector of the dataset, and the identity of models trained on it, is
    deleted now). Giving it twice keeps the first date."""
    from ..tasks import dataset_faces_backfill_task  # the tasks module imports the services

    if consent and dataset.face_consent_at is None and _photos_without_faces(dataset.pk).exists():
        broker_ready_check()  # the consent is given for the photos' sake: they need the task
    with transaction.atomic():
        locked = Dataset.objects.select_for_update().get(pk=dataset.pk)
        if consent:
            if locked.face_consent_at is None:
                locked.face_consent_at = timezone.now()
                locked.save(update_fields=["face_consent_at", "updated_at"])
                dataset_faces_backfill_task.delay_on_commit(str(locked.pk))
        elif locked.face_consent_at is not None or locked.images.exclude(faces=[]).exists():
            locked.face_consent_at = None
            locked.save(update_fields=["face_consent_at", "updated_at"])
            locked.images.update(faces=[], faces_checked_at=None)
            # The identity of a model whose current version was trained on these photos is
            # made of their vectors: it goes too (its pictures are no longer scored).
            ModelIdentity.objects.filter(
                lora_model__current_version__training_run__dataset=locked
            ).delete()
    dataset.face_consent_at = locked.face_consent_at
    return dataset


def dataset_image_faces_store(*, image_id, faces: list[Face] | None) -> bool:
    """Store the faces found in a ready photo, if its dataset still has consent and they were
    not stored already; whether they were. None (dlib failed) stores nothing."""
    if faces is None:
        return False
    with transaction.atomic():
        consenting = list(
            Dataset.objects.select_for_update(of=("self",))
            .filter(images__pk=image_id, face_consent_at__isnull=False)
            .values_list("pk", flat=True)
        )
        if not consenting:
            return False
        stored = DatasetImage.objects.filter(
            pk=image_id, status=DatasetImage.Status.READY, faces_checked_at__isnull=True
        ).update(faces=[face.as_json() for face in faces], faces_checked_at=timezone.now())
    return bool(stored)


def dataset_image_faces_catch_up(*, image_id) -> None:
    """A photo processed without faces although its dataset has consent now (given while the
    photo was being processed, or dlib failed): its dataset's photos are checked again, once."""
    from ..tasks import dataset_faces_backfill_task

    dataset_id = (
        DatasetImage.objects.filter(
            pk=image_id,
            status=DatasetImage.Status.READY,
            faces_checked_at__isnull=True,
            dataset__face_consent_at__isnull=False,
        )
        .values_list("dataset_id", flat=True)
        .first()
    )
    if dataset_id is not None:
        dataset_faces_backfill_task.delay_on_commit(str(dataset_id))


def dataset_faces_backfill(*, dataset_id) -> int:
    """Compute the faces of the ready photos of a consenting dataset that have none yet (after
    consent is given later); how many photos got them. Safe to run twice."""
    done = 0
    for image in _photos_without_faces(dataset_id).order_by("created_at"):
        if not Dataset.objects.filter(pk=dataset_id, face_consent_at__isnull=False).exists():
            break  # withdrawn meanwhile
        try:
            with (
                default_storage.open(image.training_file.name, "rb") as stored,
                image_decode_slot(),
                Image.open(stored) as picture,
            ):
                training_copy = picture.convert("RGB")
        except FileNotFoundError:
            logger.warning("faces: training copy %s is missing", image.training_file.name)
            continue
        done += dataset_image_faces_store(image_id=image.pk, faces=faces_of(training_copy))
    return done
