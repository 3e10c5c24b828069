"""A selfie must show the person now: a copy of a dataset photo (even resized or mirrored) or a
picture whose camera dated it days ago never matches automatically, however alike the faces;
the training waits for a moderator and the owner reads why. And without face consent nothing
is described from the selfie's face (dlib's 128 numbers are never computed)."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import ExifTags, Image

import likeness.faces
from accounts.services import credits_grant
from likeness.faces import SAME_PERSON_DISTANCE
from likeness.models import IdentityCheck
from likeness.selfie_proof import selfie_capture_time
from likeness.services import selfie_take
from tests import people
from tests.likeness.selfie_fixtures import (
    CREDITS,
    DATASET_FRAMINGS,
    SELFIE_FRAMING,
    first_training_fixture,  # noqa: F401 (fixture)
    owner_dataset,
    owner_selfie,
    selfie_required_fixture,  # noqa: F401 (fixture)
    start,
)
from tests.trainings.journey import draft_model

pytestmark = pytest.mark.django_db

Outcome = IdentityCheck.Outcome


def _upload(picture: Image.Image, *, taken=None, offset: str | None = None) -> SimpleUploadedFile:
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = taken.strftime(
            "%Y:%m:%d %H:%M:%S"
        )
        if offset:
            exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.OffsetTimeOriginal] = offset
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=90, exif=exif)
    return SimpleUploadedFile("selfie.jpg", buffer.getvalue(), "image/jpeg")


def _held_for(owner, lora_model, dataset, upload, capture) -> IdentityCheck:
    selfie_take(user=owner, lora_model=lora_model, upload=upload)
    run = start(owner, lora_model=lora_model, dataset=dataset, capture=capture)
    return IdentityCheck.objects.get(training_run=run)


@pytest.mark.parametrize(
    "copy",
    [
        pytest.param(lambda: people.owner(DATASET_FRAMINGS[0]), id="resized"),
        pytest.param(lambda: people.mirrored(people.owner(DATASET_FRAMINGS[1])), id="mirrored"),
    ],
)
def test_a_copy_of_a_dataset_photo_waits_for_a_moderator_and_says_why(
    copy, owner, client, first_training, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training

    check = _held_for(
        owner, lora_model, dataset, _upload(copy()), django_capture_on_commit_callbacks
    )

    # The same face as the dataset's, yet not matched: it proves nothing about now.
    assert check.outcome == Outcome.WAITING
    assert "copy of one of your dataset photos" in check.reason
    assert check.selfie  # kept for the moderator
    client.force_login(owner)
    page = client.get(reverse("trainings:run", kwargs={"run_id": check.training_run_id}))
    assert "copy of one of your dataset photos" in page.content.decode()


def test_the_fixture_selfie_is_another_picture_not_a_copy():
    """The selfie the matching tests use is a different crop, by the duplicate check's measure."""
    from trainings.quality import DUPLICATE_MAX_DISTANCE, hamming, measure_image
    from trainings.quality.measurements import ImageMeasurements

    selfie = measure_image(people.owner(SELFIE_FRAMING))
    for framing in DATASET_FRAMINGS:
        photo: ImageMeasurements = measure_image(people.owner(framing, size=256))
        assert hamming(selfie.phash, photo.phash) > DUPLICATE_MAX_DISTANCE
        assert hamming(selfie.phash, photo.phash_mirrored) > DUPLICATE_MAX_DISTANCE


def test_a_selfie_dated_days_ago_waits_for_a_moderator_with_its_date(
    owner, client, first_training, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    taken = timezone.now() - timedelta(days=3)
    upload = _upload(people.owner(SELFIE_FRAMING), taken=taken)

    check = _held_for(owner, lora_model, dataset, upload, django_capture_on_commit_callbacks)

    assert check.outcome == Outcome.WAITING
    day = taken.date()
    assert check.reason == f"your selfie was taken on {day.day} {day:%B %Y}, not now."
    client.force_login(owner)
    page = client.get(reverse("trainings:run", kwargs={"run_id": check.training_run_id}))
    assert f"taken on {day.day} {day:%B %Y}, not now" in page.content.decode()


def test_a_selfie_dated_an_hour_ago_matches(
    owner, first_training, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    upload = _upload(
        people.owner(SELFIE_FRAMING), taken=timezone.now() - timedelta(hours=1), offset="+00:00"
    )

    check = _held_for(owner, lora_model, dataset, upload, django_capture_on_commit_callbacks)

    assert check.outcome == Outcome.MATCHED and check.distance < SAME_PERSON_DISTANCE
    assert check.selfie_captured_at is not None


def test_the_exif_date_is_read_with_its_offset_and_a_broken_one_is_ignored():
    taken = timezone.now().replace(microsecond=0) - timedelta(days=2)
    local = (taken + timedelta(hours=2)).replace(tzinfo=None)
    upload = _upload(people.owner(SELFIE_FRAMING), taken=local, offset="+02:00")
    assert selfie_capture_time(upload.read()) == taken
    assert selfie_capture_time(people.jpeg_bytes(people.owner(SELFIE_FRAMING))) is None
    assert selfie_capture_time(b"not a picture") is None


@pytest.fixture(name="descriptions")
def descriptions_fixture(monkeypatch):
    """Counts the faces dlib describes (the biometric 128 numbers)."""
    calls = []
    describe = likeness.faces._describe

    def counted(pixels, found):
        calls.append(found)
        return describe(pixels, found)

    monkeypatch.setattr(likeness.faces, "_describe", counted)
    return calls


def test_without_face_consent_no_face_of_the_selfie_is_described(
    owner, selfie_required, descriptions, django_capture_on_commit_callbacks
):
    credits_grant(user=owner, amount=CREDITS, reason="test credits")
    lora_model, dataset = draft_model(owner), owner_dataset(owner, consent=False)

    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    assert check.selfie_has_face is True  # found, so not refused, but not described
    run = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )

    assert descriptions == []
    check = IdentityCheck.objects.get(training_run=run)
    assert check.outcome == Outcome.WAITING and check.distance is None


def test_with_face_consent_the_selfie_is_described_at_the_training_only(
    owner, first_training, descriptions, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training

    selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    assert descriptions == []  # the dataset (and its consent) is not known yet
    start(owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks)

    assert len(descriptions) >= 1
