"""Face consent: an explicit, unticked, optional choice on the new-dataset form and in the API;
withdrawing it deletes every vector of the dataset at once, giving it later computes them for
the photos already there."""

from __future__ import annotations

import re

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse

from likeness.models import ModelIdentity
from tests.likeness.test_faces_pipeline import consenting_dataset, owner_photos, upload
from trainings.models import Dataset, DatasetImage, LoraModel, LoraVersion, TrainingRun
from trainings.services import dataset_create, dataset_face_consent_set

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- the new-dataset form -----------------------------------------------------------------------


def test_the_form_asks_in_plain_words_and_the_box_is_not_ticked(owner):
    page = _signed_in(owner).get(reverse("trainings:dataset-create")).content.decode()

    (box,) = re.findall(r'<input[^>]*name="face_consent"[^>]*>', page)
    assert 'type="checkbox"' in box and "checked" not in box and "required" not in box
    for words in ("128 numbers", "same person", "selfie", "looks like you", "deleted with"):
        assert words in page


def test_the_form_accepts_a_dataset_without_consent(owner):
    response = _signed_in(owner).post(
        reverse("trainings:dataset-create"), {"name": "Me", "target_size": 1024}
    )

    assert response.status_code == 302
    assert Dataset.objects.get(owner=owner).face_consent_at is None


def test_ticking_the_box_records_the_consent(owner):
    response = _signed_in(owner).post(
        reverse("trainings:dataset-create"),
        {"name": "Me", "target_size": 1024, "face_consent": "on"},
    )

    assert response.status_code == 302
    assert Dataset.objects.get(owner=owner).face_consent_at is not None


# --- the API ----------------------------------------------------------------------------------


def test_the_api_field_is_optional_and_round_trips(owner, as_user):
    client = as_user(owner)
    plain = client.post("/api/v1/datasets/", {"name": "Me"}, format="json")
    assert plain.status_code == 201
    assert plain.json()["face_consent"] is False
    assert plain.json()["face_consent_at"] is None

    given = client.post("/api/v1/datasets/", {"name": "Me", "face_consent": True}, format="json")
    assert given.status_code == 201
    assert given.json()["face_consent"] is True
    url = f"/api/v1/datasets/{given.json()['id']}/"
    assert client.get(url).json()["face_consent"] is True

    withdrawn = client.patch(url, {"face_consent": False}, format="json")
    assert withdrawn.status_code == 200
    assert withdrawn.json()["face_consent"] is False
    assert client.get(url).json()["face_consent_at"] is None


def test_the_api_names_the_field_of_a_bad_value_and_hides_other_peoples_datasets(
    owner, other_user, as_user
):
    dataset = dataset_create(user=owner, name="Me")
    url = f"/api/v1/datasets/{dataset.id}/"

    bad = as_user(owner).patch(url, {"face_consent": "perhaps"}, format="json")
    assert bad.status_code == 400
    assert "face_consent" in bad.json()["errors"]
    theirs = as_user(other_user).patch(url, {"face_consent": True}, format="json")
    assert theirs.status_code == 404
    dataset.refresh_from_db()
    assert dataset.face_consent_at is None


# --- withdrawing and giving it later ------------------------------------------------------------


def test_withdrawing_consent_deletes_every_vector_of_the_dataset(owner, as_user):
    dataset = consenting_dataset(owner)
    upload(dataset, owner_photos(2))
    elsewhere = consenting_dataset(owner)
    upload(elsewhere, owner_photos(1))
    assert all(photo.faces for photo in dataset.images.all())

    response = as_user(owner).patch(
        f"/api/v1/datasets/{dataset.id}/", {"face_consent": False}, format="json"
    )

    assert response.status_code == 200
    photos = DatasetImage.objects.filter(dataset=dataset)
    assert photos.count() == 2
    assert all(photo.faces == [] and photo.faces_checked_at is None for photo in photos)
    assert all(photo.faces for photo in elsewhere.images.all())  # another dataset keeps its own


def _model_trained_on(dataset) -> LoraModel:
    lora_model = LoraModel.objects.create(
        owner=dataset.owner, name="Me", trigger_word=f"ZOR{dataset.pk.hex[:6].upper()}"
    )
    run = TrainingRun.objects.create(
        owner=dataset.owner, dataset=dataset, lora_model=lora_model, status="succeeded"
    )
    lora_model.current_version = LoraVersion.objects.create(
        lora_model=lora_model, replicate_version_id=dataset.pk.hex * 2, training_run=run
    )
    lora_model.save()
    ModelIdentity.objects.create(lora_model=lora_model, vector=[0.1] * 128)
    return lora_model


def test_withdrawing_consent_deletes_the_identity_of_models_trained_on_the_photos(owner):
    dataset = consenting_dataset(owner)
    trained_here = _model_trained_on(dataset)
    trained_elsewhere = _model_trained_on(consenting_dataset(owner))

    dataset_face_consent_set(dataset=dataset, consent=False)

    assert not ModelIdentity.objects.filter(lora_model=trained_here).exists()
    assert ModelIdentity.objects.filter(lora_model=trained_elsewhere).exists()


def test_photos_added_without_consent_are_checked_once_it_is_given(
    owner, as_user, django_capture_on_commit_callbacks
):
    dataset = dataset_create(user=owner, name="Me", target_size=512)
    upload(dataset, owner_photos(2))
    assert not dataset.images.exclude(faces=[]).exists()

    with django_capture_on_commit_callbacks(execute=True):  # the task runs eagerly in tests
        response = as_user(owner).patch(
            f"/api/v1/datasets/{dataset.id}/", {"face_consent": True}, format="json"
        )

    assert response.status_code == 200
    photos = list(dataset.images.all())
    assert all(len(photo.faces) == 1 and photo.faces_checked_at for photo in photos)


def test_after_withdrawal_new_photos_get_no_vectors(owner):
    dataset = consenting_dataset(owner)
    dataset_face_consent_set(dataset=dataset, consent=False)

    photo = upload(dataset, owner_photos(1))["me-0.jpg"]

    assert photo.status == DatasetImage.Status.READY
    assert photo.faces == [] and photo.faces_checked_at is None


# --- the button on the dataset page ------------------------------------------------------------


def test_the_dataset_page_button_gives_and_withdraws_consent(
    owner, other_user, django_capture_on_commit_callbacks
):
    dataset = dataset_create(user=owner, name="Me", target_size=512)
    upload(dataset, owner_photos(1))
    url = reverse("trainings:dataset-face-consent", args=[dataset.id])
    offer = render_to_string("trainings/_face_consent.html", {"dataset": dataset})
    assert "Check my photos with face recognition" in offer and 'value="yes"' in offer

    assert _signed_in(other_user).post(url, {"consent": "yes"}).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        assert _signed_in(owner).post(url, {"consent": "yes"}).status_code == 302
    dataset.refresh_from_db()
    assert dataset.face_consent_at is not None
    assert len(dataset.images.get().faces) == 1
    offer = render_to_string("trainings/_face_consent.html", {"dataset": dataset})
    assert "Turn off and delete the face descriptions" in offer and 'value="no"' in offer

    assert _signed_in(owner).post(url, {"consent": "no"}).status_code == 302
    dataset.refresh_from_db()
    assert dataset.face_consent_at is None
    assert dataset.images.get().faces == []


def test_the_button_needs_a_post_with_csrf(owner):
    dataset = dataset_create(user=owner, name="Me")
    url = reverse("trainings:dataset-face-consent", args=[dataset.id])
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)

    assert client.get(url).status_code == 405
    assert client.post(url, {"consent": "yes"}).status_code == 403
    dataset.refresh_from_db()
    assert dataset.face_consent_at is None


def test_the_privacy_page_says_what_is_computed_from_faces_why_and_where(client, settings):
    settings.TRAINING_PHOTOS_KEEP_DAYS = 45
    page = client.get("/privacy/").content.decode()
    faces = page[page.index('id="faces"') :]

    for words in (
        "128 numbers",  # what
        "same person",  # why
        "looks like you",
        "never sent anywhere: not to Replicate",  # where
        "Only with your consent",
        "deleted with the photo",  # when
        "45 days",
        "deleted with the model",
    ):
        assert words in faces, words


# --- consent changed while a photo is being processed ------------------------------------------


def _consent_changed_during_processing(monkeypatch, dataset, *, consent: bool):
    """Process one photo, changing the consent after the worker decided whether to look for
    faces and before it stores what it found: the moment a second request can land. The tests
    commit for real, so the consent's own task runs at once, as it would in another worker,
    while the photo is still being processed."""
    from trainings.services import datasets as dataset_services

    normalise = dataset_services.normalise_image
    changed = []

    def normalise_then_change_consent(*args, **kwargs):
        result = normalise(*args, **kwargs)
        dataset_face_consent_set(dataset=Dataset.objects.get(pk=dataset.pk), consent=consent)
        changed.append(kwargs.get("find_faces"))
        return result

    monkeypatch.setattr(dataset_services, "normalise_image", normalise_then_change_consent)
    photo = upload(dataset, owner_photos(1))["me-0.jpg"]
    assert changed == [not consent]  # the worker had decided the other way
    return photo


@pytest.mark.django_db(transaction=True)
def test_consent_given_while_a_photo_is_processed_still_gets_its_faces(owner, monkeypatch):
    dataset = dataset_create(user=owner, name="Me", target_size=512)

    photo = _consent_changed_during_processing(monkeypatch, dataset, consent=True)

    # The consent's backfill found the photo still pending; the photo, finished without faces,
    # queued a check of its own.
    assert photo.status == DatasetImage.Status.READY
    photo.refresh_from_db()
    assert len(photo.faces) == 1 and photo.faces_checked_at is not None


@pytest.mark.django_db(transaction=True)
def test_consent_withdrawn_while_a_photo_is_processed_keeps_none_of_its_faces(owner, monkeypatch):
    dataset = consenting_dataset(owner)

    photo = _consent_changed_during_processing(monkeypatch, dataset, consent=False)

    # The faces were found, but the store saw the withdrawal under the dataset's lock.
    assert photo.status == DatasetImage.Status.READY
    assert photo.faces == [] and photo.faces_checked_at is None
    assert Dataset.objects.get(pk=dataset.pk).face_consent_at is None
