"""Zip uploads: good entries are kept, each bad one is refused by name, nothing escapes."""

import io
import stat
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase

from tests.trainings.portraits import portrait_jpegs
from trainings import archives
from trainings.models import DatasetImage
from trainings.services import dataset_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(owner):
    return dataset_create(user=owner, name="Me")


def _zip(entries) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for entry in entries:
            if isinstance(entry, zipfile.ZipInfo):
                archive.writestr(entry, b"target.jpg")
            else:
                archive.writestr(*entry)
    return buffer.getvalue()


def _upload(client, dataset, data: bytes):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(
            f"/api/v1/datasets/{dataset.id}/images/",
            {"archive": SimpleUploadedFile("photos.zip", data, "application/zip")},
            format="multipart",
        )


def _link(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def test_photos_and_captions_of_a_zip_are_added(owner, as_user, dataset, tmp_path):
    (first, photo), (second, other) = portrait_jpegs(2)
    data = _zip(
        [
            (f"holiday/{first}", photo),
            (f"holiday/{first[:-4]}.txt", "a photo of me at the beach"),
            (second, other),
            ("__MACOSX/._x.jpg", b"junk"),
            (".DS_Store", b"junk"),
        ]
    )
    response = _upload(as_user(owner), dataset, data)
    assert response.status_code == 201, response.json()
    assert response.json()["refused"] == []
    images = {image.original_name: image for image in dataset.images.all()}
    assert set(images) == {first, second}
    assert images[first].caption == "a photo of me at the beach"
    assert all(image.status == DatasetImage.Status.READY for image in images.values())


def test_unsafe_entries_are_refused_by_name_and_the_rest_kept(owner, as_user, dataset, tmp_path):
    (name, photo), *_ = portrait_jpegs(1)
    data = _zip(
        [
            (name, photo),
            ("../escape.jpg", photo),
            ("/etc/absolute.jpg", photo),
            ("photos/../../up.jpg", photo),
            _link("link.jpg"),
            ("notes.pdf", b"%PDF-1.4"),
        ]
    )
    response = _upload(as_user(owner), dataset, data)
    assert response.status_code == 201
    refused = {row["name"]: row["code"] for row in response.json()["refused"]}
    assert refused == {
        "../escape.jpg": "parent_path",
        "/etc/absolute.jpg": "absolute_path",
        "photos/../../up.jpg": "parent_path",
        "link.jpg": "symlink",
        "notes.pdf": "not_a_photo",
    }
    assert [image.original_name for image in dataset.images.all()] == [name]
    # Nothing was written beside the media root, whatever the names said.
    assert not (tmp_path / "escape.jpg").exists()
    assert not (tmp_path.parent / "up.jpg").exists()


def test_a_zip_bomb_entry_is_refused_without_inflating_it(owner, as_user, dataset):
    (name, photo), *_ = portrait_jpegs(1)
    bomb = b"\0" * (20 * 1024 * 1024)  # compresses about 1000:1
    response = _upload(as_user(owner), dataset, _zip([(name, photo), ("bomb.jpg", bomb)]))
    assert response.status_code == 201
    [refusal] = response.json()["refused"]
    assert (refusal["name"], refusal["code"]) == ("bomb.jpg", "compression_ratio")
    assert "bomb.jpg" in refusal["message"]
    assert dataset.images.count() == 1


def test_entries_past_the_limit_are_refused_and_the_first_kept(owner, as_user, dataset):
    (name, photo), *_ = portrait_jpegs(1)
    limit = archives.DEFAULT_LIMITS.max_entries
    data = _zip([(name, photo), *((f"{i}.jpg", b"x") for i in range(limit + 5))])
    response = _upload(as_user(owner), dataset, data)
    assert response.status_code == 201
    codes = {row["code"] for row in response.json()["refused"]}
    assert "too_many_files" in codes
    assert [image.original_name for image in dataset.images.all()] == [name]


def test_a_file_that_is_not_a_zip_is_a_clear_error(owner, as_user, dataset):
    response = _upload(as_user(owner), dataset, b"this is not a zip")
    assert response.status_code == 400
    assert response.json()["errors"] == {"archive": ["This file is not a zip archive we can read."]}
