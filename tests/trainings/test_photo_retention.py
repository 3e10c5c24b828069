"""Training photos are kept TRAINING_PHOTOS_KEEP_DAYS after the last training that used them,
then deleted by a beat task; the dataset page says when, and the owner can keep them or delete
them at once. A running training keeps them; the model keeps working."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone

from tests.gallery.factories import picture
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun
from trainings.selectors import dataset_photos_expire_at
from trainings.services import dataset_photos_delete
from trainings.tasks import dataset_photos_expire_task

pytestmark = pytest.mark.django_db


def _dataset(user, *, trained_days_ago: float | None, status=TrainingRun.Status.SUCCEEDED):
    dataset = Dataset.objects.create(owner=user, name="Me")
    for n in range(2):
        photo = DatasetImage(dataset=dataset, original_name=f"{n}.jpg", status="ready")
        photo.training_file.save(f"{n}.jpg", ContentFile(picture(fmt="JPEG")), save=False)
        photo.thumbnail.save(f"{n}.webp", ContentFile(picture()), save=False)
        photo.save()
    if trained_days_ago is not None:
        lora_model = LoraModel.objects.create(
            owner=user, name="Me", trigger_word=f"ZOR{dataset.pk.hex[:6].upper()}"
        )
        ended = timezone.now() - timedelta(days=trained_days_ago)
        TrainingRun.objects.create(
            owner=user,
            dataset=dataset,
            lora_model=lora_model,
            status=status,
            completed_at=None if status in TrainingRun.ACTIVE else ended,
        )
    return dataset


def _files(dataset) -> list[str]:
    return [
        name
        for image in DatasetImage.objects.filter(dataset=dataset)
        for name in (image.training_file.name, image.thumbnail.name)
    ]


def test_photos_past_the_keep_period_are_deleted_and_the_rest_kept(owner, settings):
    settings.TRAINING_PHOTOS_KEEP_DAYS = 30
    old = _dataset(owner, trained_days_ago=31)
    recent = _dataset(owner, trained_days_ago=29)
    never_trained = _dataset(owner, trained_days_ago=None)
    kept = _dataset(owner, trained_days_ago=90)
    Dataset.objects.filter(pk=kept.pk).update(keep_photos=True)
    running = _dataset(owner, trained_days_ago=0, status=TrainingRun.Status.PROCESSING)
    # An older run of the running dataset ended long ago: the running one still needs them.
    TrainingRun.objects.create(
        owner=owner,
        dataset=running,
        lora_model=LoraModel.objects.create(owner=owner, name="Old", trigger_word="ZOROLD"),
        status=TrainingRun.Status.SUCCEEDED,
        completed_at=timezone.now() - timedelta(days=100),
    )
    old_files = _files(old)
    assert all(default_storage.exists(name) for name in old_files)

    assert dataset_photos_expire_task.delay().get() == 1

    old.refresh_from_db()
    assert old.photos_deleted_at is not None
    assert not DatasetImage.objects.filter(dataset=old).exists()
    assert not any(default_storage.exists(name) for name in old_files)
    for dataset in (recent, never_trained, kept, running):
        assert DatasetImage.objects.filter(dataset=dataset).count() == 2
    # The model trained on them is untouched.
    assert LoraModel.objects.filter(training_runs__dataset=old).exists()
    assert dataset_photos_expire_task.delay().get() == 0  # once


def test_the_page_says_when_and_the_owner_can_keep_or_delete_at_once(owner, stranger, settings):
    settings.TRAINING_PHOTOS_KEEP_DAYS = 30
    dataset = _dataset(owner, trained_days_ago=10)
    expire_at = dataset_photos_expire_at(dataset=dataset)
    assert timedelta(days=19) < expire_at - timezone.now() < timedelta(days=21)
    client = Client()
    client.force_login(owner)
    page = client.get(f"/trainings/datasets/{dataset.pk}/").content.decode()
    assert expire_at.strftime("%-d %B %Y") in page and "Keep my photos" in page

    client.post(f"/trainings/datasets/{dataset.pk}/photos/keep/", {"keep": "yes"})
    dataset.refresh_from_db()
    assert dataset.keep_photos and dataset_photos_expire_at(dataset=dataset) is None
    assert (
        "You chose to keep these photos"
        in client.get(f"/trainings/datasets/{dataset.pk}/").content.decode()
    )

    other = Client()
    other.force_login(stranger)
    assert other.post(f"/trainings/datasets/{dataset.pk}/photos/delete/").status_code == 404
    assert DatasetImage.objects.filter(dataset=dataset).count() == 2

    response = client.post(f"/trainings/datasets/{dataset.pk}/photos/delete/", follow=True)
    assert "2 photos deleted." in response.content.decode()
    assert "were deleted on" in response.content.decode()
    assert not DatasetImage.objects.filter(dataset=dataset).exists()


def test_photos_a_running_training_reads_are_not_deleted(owner):
    dataset = _dataset(owner, trained_days_ago=0, status=TrainingRun.Status.PROCESSING)
    client = Client()
    client.force_login(owner)
    response = client.post(f"/trainings/datasets/{dataset.pk}/photos/delete/", follow=True)
    assert "A training is using these photos" in response.content.decode()
    assert DatasetImage.objects.filter(dataset=dataset).count() == 2
    with pytest.raises(Exception, match="A training is using these photos"):
        dataset_photos_delete(dataset=dataset)
