"""The trainings pages: what a person sees, and that nobody sees another's."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from django.urls import reverse

from accounts.services import credits_grant
from tests.trainings.portraits import portrait, portrait_jpegs
from trainings.models import DatasetImage, TrainingRun
from trainings.services import dataset_create, lora_model_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def dataset(owner):
    return dataset_create(user=owner, name="Summer photos")


@pytest.fixture
def lora_model(owner):
    return lora_model_create(user=owner, name="Me", trigger_word="ZORVAK")


def test_home_guides_a_new_person(signed_in):
    html = signed_in.get(reverse("trainings:home")).content.decode()
    assert "Start with your photos" in html
    assert "about 12 close-ups, 5 half-body and 3 full-body" in html


def test_new_model_form_suggests_a_trigger_word_and_refuses_english(signed_in):
    page = signed_in.get(reverse("trainings:model-create"))
    suggested = page.context["form"].initial["trigger_word"]
    assert suggested.isalpha() and suggested.isupper()
    response = signed_in.post(
        reverse("trainings:model-create"), {"name": "Me", "trigger_word": "apple"}
    )
    assert response.status_code == 200
    assert "is an English word" in response.content.decode()


def test_uploading_through_the_page_processes_photos_and_shows_the_report(signed_in, dataset):
    files = [SimpleUploadedFile(name, data) for name, data in portrait_jpegs(2)]
    files.append(SimpleUploadedFile("notes.txt.jpg", b"hello"))
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = signed_in.post(
            reverse("trainings:dataset-upload", args=[dataset.id]), {"files": files}, follow=True
        )
    html = response.content.decode()
    assert "2 photos added" in html
    assert "notes.txt.jpg: This is not an image we can read." in html
    assert dataset.images.filter(status=DatasetImage.Status.READY).count() == 2
    assert "Quality report" in html
    assert "at least 10 are needed" in html
    assert html.count('class="photo card') == 2


def test_run_page_shows_progress_and_stops_polling_when_done(signed_in, owner, dataset, lora_model):
    credits_grant(user=owner, amount=500, reason="test")
    run = TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        lora_model=lora_model,
        status=TrainingRun.Status.PROCESSING,
        current_step=250,
        total_steps=1000,
        logs="flux_train_replicate:  25%|##5 | 250/1000\n",
    )
    html = signed_in.get(reverse("trainings:run", args=[run.id])).content.decode()
    assert 'aria-valuenow="25"' in html
    assert "Step 250 of 1000" in html
    assert 'hx-trigger="every 2s"' in html
    TrainingRun.objects.filter(pk=run.pk).update(status=TrainingRun.Status.SUCCEEDED)
    partial = signed_in.get(reverse("trainings:run-status", args=[run.id]), HTTP_HX_REQUEST="true")
    assert partial["HX-Refresh"] == "true"
    assert 'hx-trigger="every 2s"' not in partial.content.decode()


@pytest.mark.parametrize("name", ["dataset", "model", "run"])
def test_pages_of_others_are_404_and_anonymous_is_sent_to_sign_in(
    name, client, owner, stranger, dataset, lora_model
):
    run = TrainingRun.objects.create(owner=owner, dataset=dataset, lora_model=lora_model)
    url = reverse(
        f"trainings:{name}",
        args=[{"dataset": dataset.id, "model": lora_model.id, "run": run.id}[name]],
    )
    assert client.get(url).status_code == 302
    client.force_login(stranger)
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200


def test_the_owner_can_use_a_photo_where_no_face_was_found(signed_in, dataset):
    scene = io.BytesIO()
    portrait(0).crop((0, 700, 768, 960)).resize((1024, 768)).save(scene, "JPEG")
    with TestCase.captureOnCommitCallbacks(execute=True):
        signed_in.post(
            reverse("trainings:dataset-upload", args=[dataset.id]),
            {"files": [SimpleUploadedFile("back.jpg", scene.getvalue())]},
        )
    image = dataset.images.get()
    html = signed_in.get(reverse("trainings:dataset", args=[dataset.id])).content.decode()
    assert "No face was found in back.jpg" in html
    assert "I am in this photo: use it" in html
    response = signed_in.post(
        reverse("trainings:dataset-image-face-confirm", args=[dataset.id, image.id]), follow=True
    )
    html = response.content.decode()
    assert "back.jpg is used although no face was detected." in html
    assert "No face was found in back.jpg" not in html
    image.refresh_from_db()
    assert image.face_confirmed
