"""Face vectors are computed in the worker, once per photo, as part of processing it, and only
for a dataset whose owner consented; a failure of dlib never refuses a photo."""

from __future__ import annotations

import logging

import pytest
from django.test import TestCase

from likeness import faces as dlib_faces
from likeness.faces import SAME_PERSON_DISTANCE, Face, face_distance
from tests import people
from trainings.models import Dataset, DatasetImage
from trainings.services import dataset_create, dataset_faces_backfill, dataset_images_add
from trainings.services.datasets import dataset_image_process

pytestmark = pytest.mark.django_db

# Framings of the owner's photo in which dlib finds exactly her face.
OWNER_FRAMINGS = (0, 3, 4)


def upload(dataset: Dataset, pictures: dict[str, object]) -> dict[str, DatasetImage]:
    """Upload photos and process them as the worker does (tasks run eagerly on commit)."""
    files = [(name, people.jpeg_bytes(picture)) for name, picture in pictures.items()]
    with TestCase.captureOnCommitCallbacks(execute=True):
        result = dataset_images_add(dataset=dataset, files=files)
    assert not result.refused
    return {image.original_name: DatasetImage.objects.get(pk=image.pk) for image in result.added}


def owner_photos(count: int = len(OWNER_FRAMINGS)) -> dict[str, object]:
    return {f"me-{i}.jpg": people.owner(OWNER_FRAMINGS[i]) for i in range(count)}


def consenting_dataset(user, *, target_size: int = 512) -> Dataset:
    return dataset_create(user=user, name="Me", target_size=target_size, face_consent=True)


def test_without_consent_no_face_vector_is_computed(owner):
    dataset = dataset_create(user=owner, name="Me", target_size=512)
    photos = upload(dataset, owner_photos(2))

    for photo in photos.values():
        assert photo.status == DatasetImage.Status.READY
        assert photo.faces == []
        assert photo.faces_checked_at is None
        assert photo.face_count == 1  # the quality measurements still ran


def test_with_consent_each_photo_of_the_owner_gets_her_one_face(owner):
    dataset = consenting_dataset(owner)
    photos = upload(dataset, owner_photos())

    faces = []
    for photo in photos.values():
        assert photo.status == DatasetImage.Status.READY
        assert photo.faces_checked_at is not None
        assert len(photo.faces) == 1
        face = Face.from_json(photo.faces[0])
        assert len(face.vector) == 128
        left, top, right, bottom = face.box  # in the training copy's pixels
        assert 0 <= left < right <= photo.width and 0 <= top < bottom <= photo.height
        faces.append(face)
    assert all(face_distance(faces[0], face) < SAME_PERSON_DISTANCE for face in faces[1:])


def test_a_stranger_is_stored_as_another_person(owner):
    dataset = consenting_dataset(owner)
    photos = upload(dataset, {"me.jpg": people.owner(0), "them.jpg": people.stranger(2)})

    mine = Face.from_json(photos["me.jpg"].faces[0])
    theirs = Face.from_json(photos["them.jpg"].faces[0])
    assert face_distance(mine, theirs) > SAME_PERSON_DISTANCE


def test_every_face_of_a_group_photo_is_stored_largest_first(owner):
    dataset = consenting_dataset(owner, target_size=1024)
    photo = upload(dataset, {"group.jpg": people.group_photo()})["group.jpg"]

    faces = [Face.from_json(face) for face in photo.faces]
    assert len(faces) == 6
    areas = [face.area for face in faces]
    assert areas == sorted(areas, reverse=True)
    # Six different people: no two of them are taken for one.
    assert all(
        face_distance(a, b) > SAME_PERSON_DISTANCE
        for index, a in enumerate(faces)
        for b in faces[index + 1 :]
    )


def test_faces_are_computed_once(owner):
    dataset = consenting_dataset(owner)
    photo = upload(dataset, owner_photos(1))["me-0.jpg"]
    checked_at = photo.faces_checked_at

    dataset_image_process(image_id=photo.pk)  # a redelivered task
    assert dataset_faces_backfill(dataset_id=dataset.pk) == 0
    photo.refresh_from_db()
    assert photo.faces_checked_at == checked_at
    assert len(photo.faces) == 1


class _BrokenDetector:
    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unsupported image type, must be 8bit gray or RGB image.")


def test_a_failure_of_dlib_does_not_refuse_the_photo(owner, monkeypatch, caplog):
    # dlib itself fails (the stand-in raises what dlib raises on a bad array).
    monkeypatch.setattr(dlib_faces, "_models", lambda: (_BrokenDetector(), None, None))
    dataset = consenting_dataset(owner)
    with caplog.at_level(logging.ERROR, logger="trainings.imaging"):
        photo = upload(dataset, owner_photos(1))["me-0.jpg"]

    assert photo.status == DatasetImage.Status.READY
    assert photo.training_file
    assert photo.faces == []
    assert photo.faces_checked_at is None  # not looked at: a later backfill may try again
    assert "faces could not be computed" in caplog.text
