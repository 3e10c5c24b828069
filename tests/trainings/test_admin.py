"""The trainings admin: read-only pages that let support follow a training, for admins only."""

import io

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse
from PIL import Image

from accounts.models import User
from tests.factories import UserFactory
from trainings.models import Dataset, DatasetImage, LoraModel, LoraVersion, TrainingRun

pytestmark = pytest.mark.django_db


def _webp() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (200, 120, 60)).save(buffer, "WEBP")
    return buffer.getvalue()


@pytest.fixture
def admin_user():
    return User.objects.create_superuser(email="boss@example.com", password="x-pass-phrase-1")


@pytest.fixture
def moderator():
    user = UserFactory(email="mod@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="moderator"))
    return user


@pytest.fixture
def world(owner):
    """A dataset with a processed photo, a model, a failed run, its retry and the version it
    made: what support follows from a complaint."""
    dataset = Dataset.objects.create(owner=owner, name="Summer photos")
    image = DatasetImage(
        dataset=dataset, original_name="beach.jpg", status=DatasetImage.Status.READY
    )
    image.thumbnail.save("thumb.webp", ContentFile(_webp()), save=False)
    image.save()
    lora_model = LoraModel.objects.create(
        owner=owner,
        name="Me",
        trigger_word="ZORVAK",
        replicate_owner="avatars",
        replicate_name="zorvak-1",
        status=LoraModel.Status.READY,
    )
    failed = TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        lora_model=lora_model,
        status=TrainingRun.Status.FAILED,
        replicate_id="trn_failed_123",
        error_message="The trainer ran out of memory.",
        logs="\n".join(f"line {n}" for n in range(100)) + "\nCUDA out of memory",
    )
    retry = TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        lora_model=lora_model,
        retry_of=failed,
        status=TrainingRun.Status.SUCCEEDED,
        replicate_id="trn_ok_456",
    )
    version = LoraVersion.objects.create(
        lora_model=lora_model, replicate_version_id="a" * 64, training_run=retry
    )
    lora_model.current_version = version
    lora_model.save(update_fields=["current_version"])
    return {
        "dataset": dataset,
        "datasetimage": image,
        "loramodel": lora_model,
        "loraversion": version,
        "trainingrun": failed,
        "retry": retry,
    }


MODELS = ["dataset", "datasetimage", "loramodel", "loraversion", "trainingrun"]


def _change_url(obj):
    return reverse(f"admin:trainings_{obj._meta.model_name}_change", args=[obj.pk])


@pytest.mark.parametrize("name", MODELS)
def test_admins_open_the_list_and_the_page_of_each(client, admin_user, world, name):
    client.force_login(admin_user)
    changelist = client.get(reverse(f"admin:trainings_{name}_changelist"))
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count >= 1
    page = client.get(_change_url(world[name]))
    assert page.status_code == 200
    html = page.content.decode()
    owner = world["dataset"].owner
    # The owner is linked to their user page.
    assert reverse("admin:accounts_user_change", args=[owner.pk]) in html


@pytest.mark.parametrize("name", MODELS)
def test_nothing_is_added_changed_or_deleted_here(client, admin_user, world, name):
    client.force_login(admin_user)
    obj = world[name]
    assert client.get(reverse(f"admin:trainings_{name}_add")).status_code == 403
    page = client.get(_change_url(obj))
    assert page.context["has_change_permission"] is False
    assert 'name="_save"' not in page.content.decode()
    assert client.post(_change_url(obj), {"name": "Edited"}).status_code == 403
    delete_url = reverse(f"admin:trainings_{name}_delete", args=[obj.pk])
    assert client.get(delete_url).status_code == 403
    assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert type(obj).objects.filter(pk=obj.pk).exists()


def test_a_failed_run_links_to_what_it_used_and_shows_why(client, admin_user, world):
    client.force_login(admin_user)
    html = client.get(_change_url(world["trainingrun"])).content.decode()
    assert _change_url(world["dataset"]) in html
    assert _change_url(world["loramodel"]) in html
    assert _change_url(world["retry"]) in html  # "retried as"
    assert "The trainer ran out of memory." in html
    assert "CUDA out of memory" in html  # the tail of the logs
    assert "line 99" in html
    assert "line 10\n" not in html  # only the tail

    retry_html = client.get(_change_url(world["retry"])).content.decode()
    assert _change_url(world["loraversion"]) in retry_html  # the version it made
    assert _change_url(world["trainingrun"]) in retry_html  # "retry of"


def test_a_model_links_to_its_runs_and_versions(client, admin_user, world):
    client.force_login(admin_user)
    lora_model = world["loramodel"]
    html = client.get(_change_url(lora_model)).content.decode()
    runs_url = reverse("admin:trainings_trainingrun_changelist") + f"?lora_model={lora_model.pk}"
    assert runs_url in html
    assert _change_url(world["loraversion"]) in html
    runs = client.get(runs_url)
    assert runs.status_code == 200
    assert set(runs.context["cl"].result_list) == {world["trainingrun"], world["retry"]}
    failed = client.get(runs_url + "&status__exact=failed")
    assert list(failed.context["cl"].result_list) == [world["trainingrun"]]


def test_a_dataset_links_to_its_photos_with_thumbnails(client, admin_user, world):
    client.force_login(admin_user)
    dataset, image = world["dataset"], world["datasetimage"]
    html = client.get(_change_url(dataset)).content.decode()
    photos_url = reverse("admin:trainings_datasetimage_changelist") + f"?dataset={dataset.pk}"
    assert photos_url in html
    thumbnail_url = reverse("admin:trainings_datasetimage_thumbnail", args=[image.pk])
    assert f'src="{thumbnail_url}"' in html
    photos = client.get(photos_url)
    assert list(photos.context["cl"].result_list) == [image]
    assert f'src="{thumbnail_url}"' in photos.content.decode()


def test_admins_load_a_photo_thumbnail(client, admin_user, world):
    image = world["datasetimage"]
    # The owner's own thumbnail URL is a 404 for anyone else, administrators included ...
    owner_url = reverse(
        "api:dataset-image-thumbnail",
        kwargs={"dataset_id": image.dataset_id, "image_id": image.pk},
    )
    client.force_login(admin_user)
    assert client.get(owner_url).status_code == 404
    # ... so the admin serves it itself.
    response = client.get(reverse("admin:trainings_datasetimage_thumbnail", args=[image.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == _webp()
    assert "private" in response["Cache-Control"]
    assert "no-store" in response["Cache-Control"]


@pytest.mark.parametrize("name", MODELS)
def test_admins_search_by_owner_and_remote_ids(client, admin_user, world, name):
    client.force_login(admin_user)
    url = reverse(f"admin:trainings_{name}_changelist")
    found = client.get(url, {"q": "owner@example.com"})
    assert found.context["cl"].result_count >= 1
    assert client.get(url, {"q": "nobody@example.com"}).context["cl"].result_count == 0


@pytest.mark.parametrize(
    ("name", "query"),
    [
        ("loramodel", "ZORVAK"),
        ("loramodel", "zorvak-1"),
        ("trainingrun", "trn_failed_123"),
        ("trainingrun", "ZORVAK"),
        ("loraversion", "a" * 64),
        ("loraversion", "trn_ok_456"),
        ("dataset", "Summer"),
        ("datasetimage", "beach.jpg"),
    ],
)
def test_admins_search_by_name_trigger_word_and_replicate_ids(
    client, admin_user, world, name, query
):
    client.force_login(admin_user)
    found = client.get(reverse(f"admin:trainings_{name}_changelist"), {"q": query})
    assert found.context["cl"].result_count >= 1


def test_failed_runs_are_filtered_by_status(client, admin_user, world):
    client.force_login(admin_user)
    page = client.get(
        reverse("admin:trainings_trainingrun_changelist"), {"status__exact": "failed"}
    )
    assert list(page.context["cl"].result_list) == [world["trainingrun"]]


def test_moderators_see_nothing_of_the_trainings_admin(client, moderator, world):
    client.force_login(moderator)
    assert client.get(reverse("admin:index")).status_code == 302  # no admin page at all
    assert client.get(reverse("admin:app_list", args=["trainings"])).status_code in (302, 404)
    for name in MODELS:
        assert client.get(reverse(f"admin:trainings_{name}_changelist")).status_code == 302
        assert client.get(_change_url(world[name])).status_code == 302
    thumbnail_url = reverse(
        "admin:trainings_datasetimage_thumbnail", args=[world["datasetimage"].pk]
    )
    assert client.get(thumbnail_url).status_code == 302


def test_thumbnails_are_not_served_to_people_outside_the_admin(client, owner, world):
    thumbnail_url = reverse(
        "admin:trainings_datasetimage_thumbnail", args=[world["datasetimage"].pk]
    )
    anonymous = client.get(thumbnail_url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("admin:login"))
    client.force_login(owner)  # not staff, even though it is their photo
    assert client.get(thumbnail_url).status_code == 302
