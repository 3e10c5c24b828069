"""Selectors answer one error for anything that is not the caller's: core's NotFound."""

import uuid

import pytest
from django.urls import reverse

from core.exceptions import NotFound
from trainings import selectors
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun
from trainings.services import dataset_create, lora_model_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def objects(owner):
    dataset = dataset_create(user=owner, name="Me")
    lora_model = lora_model_create(user=owner, name="Me", trigger_word="ZORVAK")
    return {
        "dataset": dataset,
        "image": DatasetImage.objects.create(dataset=dataset, original_name="a.jpg"),
        "model": lora_model,
        "run": TrainingRun.objects.create(owner=owner, dataset=dataset, lora_model=lora_model),
    }


def _gets(objects):
    """Each selector `get`, as a function of (user, id)."""
    dataset_id = objects["dataset"].id
    return {
        "dataset": lambda user, id: selectors.dataset_get(user=user, dataset_id=id),
        "image": lambda user, id: selectors.dataset_image_get(
            user=user, dataset_id=dataset_id, image_id=id
        ),
        "model": lambda user, id: selectors.lora_model_get(user=user, model_id=id),
        "run": lambda user, id: selectors.training_run_get(user=user, run_id=id),
    }


@pytest.mark.parametrize("kind", ["dataset", "image", "model", "run"])
def test_a_strangers_a_missing_and_a_malformed_id_are_all_not_found(kind, owner, stranger, objects):
    get = _gets(objects)[kind]
    assert get(owner, objects[kind].id) == objects[kind]
    for user, id in ((stranger, objects[kind].id), (owner, uuid.uuid4()), (owner, "not-a-uuid")):
        with pytest.raises(NotFound):
            get(user, id)


def test_html_views_turn_not_found_into_the_404_page(client, stranger, objects):
    client.force_login(stranger)
    pages = [
        reverse("trainings:dataset", args=[objects["dataset"].id]),
        reverse("trainings:model", args=[objects["model"].id]),
        reverse("trainings:run-status", args=[objects["run"].id]),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 404, url
        assert "text/html" in response["Content-Type"], url
    deleted = client.post(reverse("trainings:dataset-delete", args=[objects["dataset"].id]))
    assert deleted.status_code == 404
    assert selectors.dataset_list(user=objects["dataset"].owner).exists()


@pytest.mark.parametrize(
    "name",
    [
        "trainings:home",
        "trainings:dataset",
        "trainings:dataset-images",
        "trainings:run",
        "trainings:run-status",
    ],
)
def test_read_only_pages_refuse_writes(name, owner, client):
    """Pages that only show something answer 405 to a POST instead of rendering."""
    dataset = Dataset.objects.create(owner=owner, name="me")
    model = LoraModel.objects.create(owner=owner, name="Me", trigger_word="ZYXWOR")
    run = TrainingRun.objects.create(owner=owner, dataset=dataset, lora_model=model)
    kwargs = {
        "trainings:home": {},
        "trainings:dataset": {"dataset_id": dataset.id},
        "trainings:dataset-images": {"dataset_id": dataset.id},
        "trainings:run": {"run_id": run.id},
        "trainings:run-status": {"run_id": run.id},
    }[name]
    client.force_login(owner)
    url = reverse(name, kwargs=kwargs)
    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 405
