"""Face vectors go with the photos: retention, a photo the owner deletes, the account's
erasure; and the export gives them to their owner, with the identities of the models."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts import deletion
from accounts.exports import data_export_build, data_export_request
from likeness.models import ModelIdentity
from tests.factories import TEST_PASSWORD
from tests.likeness.test_faces_pipeline import consenting_dataset, owner_photos, upload
from trainings.models import DatasetImage, LoraModel, TrainingRun
from trainings.services import dataset_photos_expire

pytestmark = pytest.mark.django_db


def _trained(user, dataset, *, days_ago: float = 1) -> LoraModel:
    lora_model = LoraModel.objects.create(
        owner=user, name="Me", trigger_word=f"ZOR{dataset.pk.hex[:6].upper()}"
    )
    TrainingRun.objects.create(
        owner=user,
        dataset=dataset,
        lora_model=lora_model,
        status=TrainingRun.Status.SUCCEEDED,
        completed_at=timezone.now() - timedelta(days=days_ago),
    )
    first = DatasetImage.objects.filter(dataset=dataset).exclude(faces=[]).first()
    ModelIdentity.objects.create(lora_model=lora_model, vector=first.faces[0]["vector"])
    return lora_model


def _vectors_of(user) -> int:
    return DatasetImage.objects.filter(dataset__owner=user).exclude(faces=[]).count()


def test_retention_deletes_the_vectors_with_the_photos(owner, settings):
    settings.TRAINING_PHOTOS_KEEP_DAYS = 30
    expired = consenting_dataset(owner)
    upload(expired, owner_photos(1))
    _trained(owner, expired, days_ago=31)
    recent = consenting_dataset(owner)
    upload(recent, owner_photos(1))
    _trained(owner, recent, days_ago=2)

    assert dataset_photos_expire() == 1

    assert not DatasetImage.objects.filter(dataset=expired).exists()
    assert DatasetImage.objects.filter(dataset=recent).exclude(faces=[]).count() == 1
    # The model's identity stays with the model (deleted with it, or the account).
    assert ModelIdentity.objects.filter(lora_model__owner=owner).count() == 2


def test_a_photo_the_owner_deletes_takes_its_vectors(owner, as_user):
    dataset = consenting_dataset(owner)
    photos = upload(dataset, owner_photos(2))
    gone = photos["me-0.jpg"]

    response = as_user(owner).delete(f"/api/v1/datasets/{dataset.id}/images/{gone.id}/")

    assert response.status_code == 204
    assert not DatasetImage.objects.filter(pk=gone.pk).exists()
    assert _vectors_of(owner) == 1


def test_the_export_holds_the_faces_of_each_photo_and_the_model_identities(owner, other_user):
    dataset = consenting_dataset(owner)
    photo = upload(dataset, owner_photos(1))["me-0.jpg"]
    lora_model = _trained(owner, dataset)
    theirs = consenting_dataset(other_user)
    upload(theirs, owner_photos(1))
    _trained(other_user, theirs)

    export = data_export_request(user=owner)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))

    (exported,) = json.loads(archive.read("trainings/datasets.json"))
    assert exported["face_consent_at"]
    (row,) = exported["photos"]
    assert row["faces"] == photo.faces
    assert len(row["faces"][0]["vector"]) == 128 and len(row["faces"][0]["box"]) == 4
    assert row["faces_checked_at"]
    (model_row,) = json.loads(archive.read("trainings/models.json"))
    assert model_row["id"] == str(lora_model.id)
    assert model_row["identity"]["vector"] == lora_model.identity.vector


def test_deleting_the_account_leaves_no_vector_and_no_identity(
    owner, other_user, django_capture_on_commit_callbacks
):
    for user in (owner, other_user):
        dataset = consenting_dataset(user)
        upload(dataset, owner_photos(2))
        _trained(user, dataset)
    assert _vectors_of(owner) == 2

    with django_capture_on_commit_callbacks(execute=True):
        deletion.account_deletion_request(user=owner, password=TEST_PASSWORD)

    assert not DatasetImage.objects.filter(dataset__owner_id=owner.pk).exists()
    assert not ModelIdentity.objects.filter(lora_model__owner_id=owner.pk).exists()
    assert _vectors_of(other_user) == 2
    assert ModelIdentity.objects.filter(lora_model__owner=other_user).count() == 1
