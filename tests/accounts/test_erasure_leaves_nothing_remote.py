"""Deleting an account leaves nothing of it on Replicate: counted on the simulator after a real
journey (photos, a training to success, an image-to-image generation) and the deletion, run by
a real worker, there are zero files and zero models left that were not there before."""

import base64
import io
import time

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from accounts.services import credits_grant
from tests.factories import TEST_PASSWORD
from tests.simulator_fixtures import wait_until
from tests.trainings.portraits import portrait_jpegs
from trainings.models import DatasetImage

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _model_names(simulator) -> set[str]:
    names: set[str] = set()
    url = "/v1/models"
    with simulator.http() as http:
        while url:
            page = http.get(url).raise_for_status().json()
            names |= {f"{model['owner']}/{model['name']}" for model in page["results"]}
            url = page.get("next")
    return names


def _png_data_uri() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (120, 160, 200)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _until_status(client, url: str, timeout: float = 90) -> dict:
    def ended():
        body = client.get(url).json()
        return body if body["status"] in ("succeeded", "failed", "canceled") else None

    return wait_until(ended, timeout=timeout, interval=0.3, message=f"{url} did not end")


def test_after_deletion_nothing_of_the_account_is_left_on_replicate(
    live_worker, replicate_backend, owner, as_user
):
    files_before = replicate_backend.file_ids()
    models_before = _model_names(replicate_backend)
    credits_grant(user=owner, amount=1000, reason="test credits")
    client = as_user(owner)

    dataset = client.post("/api/v1/datasets/", {"name": "Me"}, format="json").json()
    uploads = [SimpleUploadedFile(name, data) for name, data in portrait_jpegs(12)]
    response = client.post(
        f"/api/v1/datasets/{dataset['id']}/images/", {"files": uploads}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    wait_until(
        lambda: not DatasetImage.objects.filter(status=DatasetImage.Status.PENDING).exists(),
        timeout=60,
        message="the photos were not processed",
    )
    model = client.post(
        "/api/v1/models/", {"name": "Me", "trigger_word": "ZORVAK"}, format="json"
    ).json()
    run = client.post(
        "/api/v1/trainings/",
        {"dataset": dataset["id"], "model": model["id"], "steps": 500},
        format="json",
    )
    assert run.status_code == 201, run.json()
    trained = _until_status(client, f"/api/v1/trainings/{run.json()['id']}/")
    assert trained["status"] == "succeeded", trained["error_message"]
    asked = client.post(
        "/api/v1/generations/",
        {"lora_model": model["id"], "prompt": "ZORVAK at sea", "image": _png_data_uri()},
        format="json",
    )
    assert asked.status_code == 201, asked.json()
    generation = asked.json()["generations"][0]
    made = _until_status(client, f"/api/v1/generations/{generation['id']}/")
    assert made["status"] == "succeeded", made["error_message"]
    # What the journey put there (the destination model at least) is there now.
    assert _model_names(replicate_backend) - models_before

    deleted = client.delete("/api/v1/me/", {"password": TEST_PASSWORD}, format="json")
    assert deleted.status_code in (202, 204), deleted.content
    wait_until(
        lambda: not get_user_model().objects.filter(pk=owner.pk).exists(),
        timeout=60,
        message="the account was not erased",
    )
    time.sleep(0.5)  # deletions of the files of jobs that ended are sent after commit

    assert replicate_backend.file_ids() - files_before == set()
    assert _model_names(replicate_backend) - models_before == set()
