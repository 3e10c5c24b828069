"""From 15 photos to a ready model, with a real Celery worker and the Replicate simulator.

Webhooks travel from the simulator to the live server of the test, which verifies them and
enqueues the work for the worker. Also with webhooks dropped (the reconciliation task polls),
duplicated and out of order, and a failing training that refunds.
"""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_grant
from core import replicate_gateway
from core.models import WebhookDelivery
from core.remote_jobs.tasks import remote_jobs_reconcile_task
from tests.trainings.portraits import portrait_jpegs
from trainings.models import DatasetImage, LoraModel, TrainingRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _wait_for(predicate, timeout=60.0, message=""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(message or "timed out")


@pytest.fixture
def photos():
    return portrait_jpegs(15)


def _prepare(client, photos):
    dataset = client.post("/api/v1/datasets/", {"name": "Me"}).json()
    uploads = [SimpleUploadedFile(name, data) for name, data in photos]
    response = client.post(
        f"/api/v1/datasets/{dataset['id']}/images/", {"files": uploads}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    assert len(response.json()["added"]) == 15

    def processed():
        return not DatasetImage.objects.filter(status=DatasetImage.Status.PENDING).exists()

    _wait_for(processed, message="the worker did not process the photos")
    report = client.get(f"/api/v1/datasets/{dataset['id']}/report/").json()
    assert report["can_train"], report
    assert report["usable"] == 15
    model = client.post("/api/v1/models/", {"name": "Me", "trigger_word": "ZORVAK"}).json()
    return dataset, model


def _start(client, dataset, model):
    response = client.post(
        "/api/v1/trainings/", {"dataset": dataset["id"], "model": model["id"], "steps": 500}
    )
    assert response.status_code == 201, response.json()
    return response.json()


def _finished(client, run_id):
    def done():
        body = client.get(f"/api/v1/trainings/{run_id}/").json()
        return body if body["status"] in ("succeeded", "failed", "canceled") else None

    return _wait_for(done, timeout=90, message="the training did not finish")


def _ready(owner, as_user):
    credits_grant(user=owner, amount=1000, reason="test credits")
    return as_user(owner)


def test_photos_to_a_ready_model_through_webhooks(live_worker, owner, as_user, photos, simulator):
    client = _ready(owner, as_user)
    dataset, model = _prepare(client, photos)
    before = credit_balance(user=owner)
    run = _start(client, dataset, model)
    assert run["status"] == "queued"
    assert run["cost_estimate"] == 100
    assert credit_balance(user=owner) == before - 100

    finished = _finished(client, run["id"])
    assert finished["status"] == "succeeded", finished
    assert finished["progress"] == 1.0
    assert finished["log_tail"]
    lora_model = LoraModel.objects.get(pk=model["id"])
    assert lora_model.status == LoraModel.Status.READY
    assert len(lora_model.current_version.replicate_version_id) == 64
    # The remote model is private and holds the version we recorded.
    remote = simulator.client().models.get(lora_model.replicate_full_name)
    assert remote.visibility == "private"
    assert remote.latest_version.id == lora_model.current_version.replicate_version_id
    # Webhooks moved it: signed deliveries were recorded, and the credits were captured.
    assert WebhookDelivery.objects.filter(remote_status="succeeded").exists()
    kinds = set(
        CreditEntry.objects.filter(reference=f"training_run:{run['id']}").values_list(
            "kind", flat=True
        )
    )
    assert kinds == {CreditEntry.Kind.RESERVE, CreditEntry.Kind.CAPTURE}
    assert credit_balance(user=owner) == before - 100
    # The trainer no longer needs the photos: their zip is gone from Replicate's Files API,
    # and the run no longer names it.
    remote_run = TrainingRun.objects.get(pk=run["id"])
    uploaded = simulator.client().trainings.get(remote_run.replicate_id).input["input_images"]
    file_id = replicate_gateway.file_id_from_url(uploaded)

    def zips_gone():
        with simulator.http() as http:
            return http.get(f"/v1/files/{file_id}").status_code == 404

    _wait_for(zips_gone, timeout=20, message="the training's photos are still on Replicate")
    remote_run.refresh_from_db()
    assert remote_run.replicate_file_ids == []


def test_lost_webhooks_are_recovered_by_polling(live_worker, owner, as_user, photos, simulator):
    client = _ready(owner, as_user)
    dataset, model = _prepare(client, photos)
    simulator.configure(drop_webhooks=1.0)
    run = _start(client, dataset, model)

    def submitted():
        return TrainingRun.objects.filter(pk=run["id"]).exclude(replicate_id=None).first()

    training = _wait_for(submitted, message="the run was not submitted")
    remote_id = training.replicate_id

    def remote_done():
        return simulator.client().trainings.get(remote_id).status == "succeeded"

    _wait_for(remote_done, message="the simulator did not finish the training")
    time.sleep(1.1)  # TRAINING_RECONCILE_AFTER_SECONDS is 1 for the worker
    assert TrainingRun.objects.get(pk=run["id"]).status != TrainingRun.Status.SUCCEEDED
    assert not WebhookDelivery.objects.filter(remote_id=remote_id).exists()
    remote_jobs_reconcile_task.delay()
    assert _finished(client, run["id"])["status"] == "succeeded"


def test_duplicated_and_reordered_webhooks_change_nothing(
    live_worker, owner, as_user, photos, simulator
):
    client = _ready(owner, as_user)
    dataset, model = _prepare(client, photos)
    simulator.configure(duplicate_webhooks=True, reorder_webhooks=True)
    run = _start(client, dataset, model)
    finished = _finished(client, run["id"])
    assert finished["status"] == "succeeded"
    remote_id = TrainingRun.objects.get(pk=run["id"]).replicate_id
    attempts = simulator.webhook_attempts(remote_id)
    # Every message went twice; the second copy of each was acknowledged and ignored.
    assert len(attempts) >= 2 * WebhookDelivery.objects.filter(remote_id=remote_id).count()
    # The late `start`/`logs` messages after `completed` did not move the run back.
    time.sleep(1.0)
    assert TrainingRun.objects.get(pk=run["id"]).status == TrainingRun.Status.SUCCEEDED
    assert LoraModel.objects.get(pk=model["id"]).versions.count() == 1


def test_a_failing_training_refunds(live_worker, owner, as_user, photos, simulator):
    client = _ready(owner, as_user)
    dataset, model = _prepare(client, photos)
    before = credit_balance(user=owner)
    simulator.configure(training_outcome="failed")
    run = _start(client, dataset, model)
    finished = _finished(client, run["id"])
    assert finished["status"] == "failed"
    assert finished["error_message"] == "The training ran out of GPU memory."
    # The advice fits the run's settings: the trainer's defaults, batch size 1.
    advice = finished["failure_advice"]
    assert advice["kind"] == "out_of_memory"
    assert not any("batch size" in step for step in advice["steps"])
    assert any("resolution" in step for step in advice["steps"])
    assert credit_balance(user=owner) == before
    assert LoraModel.objects.get(pk=model["id"]).status == LoraModel.Status.FAILED
    retried = client.post(f"/api/v1/trainings/{run['id']}/retry/")
    assert retried.status_code == 201
    assert retried.json()["retry_of"] == run["id"]
