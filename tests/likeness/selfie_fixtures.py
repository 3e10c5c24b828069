"""A model ready for its first training on a dataset of the owner's real photos, with their
faces stored as the worker stores them, and the consent selfie helpers."""

from __future__ import annotations

import functools
import io
import random
import string

import pytest
import replicate
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.services import credits_grant
from likeness.faces import faces_find
from tests import people
from tests.trainings.journey import dataset_with_photos, draft_model
from trainings.models import DatasetImage
from trainings.quality import measure_image
from trainings.services import TrainingParameters, training_run_start

# Framings of the owner's photo in which dlib finds exactly her face: the dataset's photos use
# the first two, her selfie the third (another framing, never in the dataset).
DATASET_FRAMINGS = (0, 3)
SELFIE_FRAMING = 4
CREDITS = 1000


@functools.cache
def _owner_faces(framing: int) -> list[dict]:
    return [face.as_json() for face in faces_find(people.owner(framing))]


@functools.cache
def _small_jpeg(framing: int) -> bytes:
    return people.jpeg_bytes(people.owner(framing, size=256))


@functools.cache
def _hashes(framing: int) -> dict:
    """The perceptual hashes of a stored photo, as the worker measures them."""
    measured = measure_image(Image.open(io.BytesIO(_small_jpeg(framing))).convert("RGB"))
    return {key: measured.to_dict()[key] for key in ("phash", "phash_mirrored")}


def owner_selfie() -> SimpleUploadedFile:
    return SimpleUploadedFile(
        "selfie.jpg", people.jpeg_bytes(people.owner(SELFIE_FRAMING)), "image/jpeg"
    )


def stranger_selfie(index: int = 0) -> SimpleUploadedFile:
    return SimpleUploadedFile("selfie.jpg", people.jpeg_bytes(people.stranger(index)), "image/jpeg")


def faceless_selfie() -> SimpleUploadedFile:
    wall = Image.new("RGB", (640, 480), (180, 170, 160))
    return SimpleUploadedFile("selfie.jpg", people.jpeg_bytes(wall), "image/jpeg")


def owner_dataset(user, *, consent: bool = True):
    """20 ready photos of the owner (the report's recommended mix), each with its stored file,
    thumbnail and faces; with `consent`, agreed to face processing."""
    dataset = dataset_with_photos(user)
    dataset.face_consent_at = timezone.now() if consent else None
    dataset.save(update_fields=["face_consent_at"])
    for index, image in enumerate(dataset.images.order_by("created_at")):
        framing = DATASET_FRAMINGS[index % len(DATASET_FRAMINGS)]
        folder = f"datasets/{user.pk}/{dataset.pk}"
        image.training_file.name = default_storage.save(
            f"{folder}/{image.pk}.jpg", ContentFile(_small_jpeg(framing))
        )
        image.thumbnail.name = default_storage.save(
            f"{folder}/{image.pk}-thumb.jpg", ContentFile(_small_jpeg(framing))
        )
        if index < len(DATASET_FRAMINGS):
            # The first photo of each framing carries its real hashes, so that a copy of it is
            # found; the others keep the builder's, far apart (the photos repeat two framings,
            # which the duplicate check would otherwise refuse).
            image.measurements = {**image.measurements, **_hashes(framing)}
        image.faces = _owner_faces(framing) if consent else []
        image.faces_checked_at = timezone.now() if consent else None
        image.save()
    assert dataset.images.filter(status=DatasetImage.Status.READY).count() == 20
    return dataset


@pytest.fixture(name="selfie_required")
def selfie_required_fixture(settings):
    settings.LIKENESS_SELFIE_REQUIRED = True
    settings.LIKENESS_SELFIE_NO_FACE_RETRIES = 2


@pytest.fixture(name="first_training")
def first_training_fixture(owner, selfie_required):
    """The owner's new model and a dataset of her photos (with face consent), credits given."""
    credits_grant(user=owner, amount=CREDITS, reason="test credits")
    trigger_word = "SELFIE" + "".join(random.choices(string.ascii_uppercase, k=8))
    return draft_model(owner, trigger_word=trigger_word), owner_dataset(owner)


def start(user, *, lora_model, dataset, capture):
    """Request a training as the pages do, running what is enqueued on commit."""
    with capture(execute=True):
        return training_run_start(
            user=user,
            dataset=dataset,
            lora_model=lora_model,
            parameters=TrainingParameters(steps=1000),
        )


def trainings_on_replicate(simulator, *, lora_model) -> int:
    """How many trainings the simulator was asked to create for `lora_model` (its trigger word
    is unique to the test: the simulator keeps other tests' trainings)."""
    client = simulator.client()
    count = 0
    for page in replicate.paginate(client.trainings.list):
        count += sum(
            1
            for training in page
            if (training.input or {}).get("trigger_word") == lora_model.trigger_word
        )
    return count
