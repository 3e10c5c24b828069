"""An upload request is all or nothing, and no file outlives a transaction that rolled back.

- More photos than the dataset has room for refuse the request whole (400): none is stored,
  whether they come one by one, in a zip, or both. (31 photos used to answer 201 with 30.)
- A photo over 25 MB refuses the request whole (413), judged from its size, unread.
- Files are written to storage only once their rows are committed: an upload inside a
  transaction that rolls back leaves no file on disk (it used to leave them all).
"""

import io
import zipfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client, TestCase
from django.urls import reverse
from PIL import Image

from trainings.models import DatasetImage
from trainings.services import dataset_create, dataset_images_add
from trainings.services.datasets import MAX_IMAGES, dataset_uploads_add

pytestmark = pytest.mark.django_db


def _jpeg(number: int = 0) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 640), (number * 7 % 256, 80, 60)).save(buffer, "JPEG")
    return buffer.getvalue()


def _photos(count: int, start: int = 0) -> list[tuple[str, bytes]]:
    return [(f"{number:03d}.jpg", _jpeg(number)) for number in range(start, start + count)]


def _zip(files: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in files:
            archive.writestr(name, data)
    return buffer.getvalue()


def _stored_files() -> list[Path]:
    media = Path(settings.MEDIA_ROOT)
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def _post(client, dataset, *, files=(), archive=None):
    data: dict = {}
    if files:
        data["files"] = [SimpleUploadedFile(name, content) for name, content in files]
    if archive is not None:
        data["archive"] = SimpleUploadedFile("photos.zip", archive, "application/zip")
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            reverse("api:dataset-images", args=[dataset.id]), data, format="multipart"
        )


@pytest.fixture
def dataset(owner):
    return dataset_create(user=owner, name="Me")


def test_31_photos_in_one_request_are_refused_whole(owner, as_user, dataset):
    response = _post(as_user(owner), dataset, files=_photos(MAX_IMAGES + 1))
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "too_many_images"
    assert f"at most {MAX_IMAGES} photos" in body["errors"]["files"][0]
    assert "nothing was added" in body["detail"]
    assert not dataset.images.exists()
    assert _stored_files() == []


def test_an_upload_past_the_room_left_is_refused_whole(owner, as_user, dataset):
    client = as_user(owner)
    assert _post(client, dataset, files=_photos(MAX_IMAGES - 2)).status_code == 201
    stored = sorted(_stored_files())
    response = _post(client, dataset, files=_photos(3, start=100))
    assert response.status_code == 400
    assert "It has 28" in response.json()["detail"]
    assert "at most 2 more" in response.json()["detail"]
    assert dataset.images.count() == MAX_IMAGES - 2
    assert sorted(_stored_files()) == stored
    # What fits still goes in.
    assert _post(client, dataset, files=_photos(2, start=200)).status_code == 201
    assert dataset.images.count() == MAX_IMAGES


def test_a_zip_of_31_photos_is_refused_whole(owner, as_user, dataset):
    response = _post(as_user(owner), dataset, archive=_zip(_photos(MAX_IMAGES + 1)))
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_images"
    assert not dataset.images.exists()
    assert _stored_files() == []


def test_photos_and_a_zip_together_count_as_one_request(owner, as_user, dataset):
    response = _post(
        as_user(owner), dataset, files=_photos(20), archive=_zip(_photos(11, start=50))
    )
    assert response.status_code == 400
    assert not dataset.images.exists()  # the 20 single photos were not kept either
    assert _stored_files() == []


def test_refused_files_do_not_count_and_the_rest_is_added(owner, as_user, dataset):
    files = [*_photos(MAX_IMAGES), ("notes.jpg", b"not a photo"), ("anim.gif", b"GIF89a" + b"0")]
    response = _post(as_user(owner), dataset, files=files)
    assert response.status_code == 201
    assert len(response.json()["added"]) == MAX_IMAGES
    assert {row["name"] for row in response.json()["refused"]} == {"notes.jpg", "anim.gif"}


def test_a_photo_over_25_mb_refuses_the_request_whole_with_413(owner, as_user, dataset):
    big = b"\xff\xd8\xff\xe0" + bytes(25 * 1024 * 1024)
    response = _post(as_user(owner), dataset, files=[*_photos(2), ("big.jpg", big)])
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "file_too_large"
    assert body["errors"]["files"][0].startswith("big.jpg is larger than 25 MB")
    assert not dataset.images.exists()
    assert _stored_files() == []


def test_the_page_refuses_31_photos_whole_and_says_why(owner, dataset):
    client = Client()
    client.force_login(owner)
    uploads = [SimpleUploadedFile(name, data) for name, data in _photos(MAX_IMAGES + 1)]
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("trainings:dataset-upload", args=[dataset.id]), {"files": uploads}, follow=True
        )
    assert f"A dataset holds at most {MAX_IMAGES} photos" in response.content.decode()
    assert not dataset.images.exists()
    assert _stored_files() == []


# --- Transactions ------------------------------------------------------------------------------


class Boom(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_an_upload_in_a_transaction_that_rolls_back_leaves_no_file(owner):
    dataset = dataset_create(user=owner, name="Me")
    with pytest.raises(Boom), transaction.atomic():
        result = dataset_images_add(dataset=dataset, files=_photos(3))
        assert len(result.added) == 3
        raise Boom
    assert not DatasetImage.objects.exists()
    assert _stored_files() == []


@pytest.mark.django_db(transaction=True)
def test_an_upload_that_commits_writes_its_files_and_processes_them(owner):
    dataset = dataset_create(user=owner, name="Me")
    with transaction.atomic():
        dataset_images_add(dataset=dataset, files=_photos(2))
        assert _stored_files() == []  # not before the commit
    images = list(dataset.images.all())
    assert len(images) == 2
    assert all(image.status == DatasetImage.Status.READY for image in images)  # eager tasks ran
    assert all(default_storage.exists(image.training_file.name) for image in images)


@pytest.mark.django_db(transaction=True)
def test_an_uploaded_file_that_cannot_be_stored_marks_its_photo_rejected(owner, monkeypatch):
    dataset = dataset_create(user=owner, name="Me")

    def broken_save(self, name, content, max_length=None):
        raise OSError("disk full")

    monkeypatch.setattr(FileSystemStorage, "save", broken_save)
    result = dataset_uploads_add(dataset=dataset, files=_photos(1))
    image = DatasetImage.objects.get(pk=result.added[0].pk)
    assert image.status == DatasetImage.Status.REJECTED
    assert image.rejection_code == "upload_failed"
    assert not image.upload
