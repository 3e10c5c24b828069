"""The platform's own changes publish events: a training or a generation that ends (run on the
Replicate simulator, or told by Replicate's state), a picture held by the scan or rejected by a
moderator, an export that is ready. Each reaches a subscribed endpoint, signed."""

from __future__ import annotations

import secrets

import pytest
from standardwebhooks import Webhook

from accounts.exports import data_export_build
from accounts.models import DataExport
from core import replicate_gateway
from core.models import JobStatus
from core.remote_jobs import lifecycle_get
from core.replicate_gateway import RemoteJob
from events.models import Event
from gallery.models import GeneratedImage
from gallery.services.review import image_decide, image_scan
from tests.gallery.factories import make_generation, make_image
from tests.replicate_sim.helpers import training_zip
from tests.simulator_fixtures import wait_until
from trainings.models import Dataset, LoraModel, TrainingRun

pytestmark = pytest.mark.django_db

Moderation = GeneratedImage.Moderation


def _training_run(user, *, replicate_id=None) -> TrainingRun:
    lora_model = LoraModel.objects.create(
        owner=user,
        name="Me",
        trigger_word=f"ZOR{secrets.token_hex(3).upper()}",
        replicate_owner="avatars",
        replicate_name=f"me-{secrets.token_hex(4)}",
        status=LoraModel.Status.TRAINING,
    )
    return TrainingRun.objects.create(
        owner=user,
        dataset=Dataset.objects.create(owner=user, name="me"),
        lora_model=lora_model,
        status=JobStatus.STARTING,
        replicate_id=replicate_id,
        total_steps=1000,
        cost_estimate=40,
        parameters={"steps": 1000},
    )


def _run_on_simulator(job) -> str:
    """Create the job's remote counterpart on the simulator and wait until it has ended."""
    if isinstance(job, TrainingRun):
        model = replicate_gateway.destination_model_create(name=job.lora_model.replicate_name)
        LoraModel.objects.filter(pk=job.lora_model_id).update(replicate_owner=model.owner)
        images_url = replicate_gateway.file_upload(
            data=training_zip().read(), filename="photos.zip", content_type="application/zip"
        )
        remote = replicate_gateway.training_start(
            destination=model.full_name,
            training_input={"input_images": images_url, "steps": 100, "trigger_word": "TOK"},
            webhook_url=None,
        )
        lifecycle = lifecycle_get("training")
    else:
        remote = replicate_gateway.prediction_start(
            prediction_input={"prompt": "a lighthouse", "num_outputs": 1},
            model_name="black-forest-labs/flux-schnell",
            webhook_url=None,
        )
        lifecycle = lifecycle_get("prediction")
    type(job).objects.filter(pk=job.pk).update(replicate_id=remote.id)
    wait_until(lambda: lifecycle.remote_get(remote.id).is_terminal, message="not finished")
    return remote.id


def _delivered(receiver, endpoint, count=1) -> list[dict]:
    return [
        Webhook(endpoint.secret).verify(request.body, request.headers)
        for request in receiver.wait_for(count)
    ]


def test_a_training_that_succeeds_on_the_simulator_publishes_training_succeeded(
    owner, replicate_backend, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url, event_types=["training.succeeded"])
    run = _training_run(owner)
    replicate_id = _run_on_simulator(run)
    with django_capture_on_commit_callbacks(execute=True):
        done = lifecycle_get("training").refresh(replicate_id=replicate_id)
    assert done.status == JobStatus.SUCCEEDED

    [payload] = _delivered(receiver, endpoint)
    assert payload["type"] == "training.succeeded"
    assert payload["data"]["id"] == str(run.id) and payload["data"]["status"] == "succeeded"
    assert payload["data"]["url"].endswith(f"/api/v1/trainings/{run.id}/")
    assert payload["data"]["model"] == str(run.lora_model_id)
    assert Event.objects.get(owner=owner).id == payload["id"]


def test_a_training_that_fails_publishes_training_failed_and_a_cancel_nothing(
    owner, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url)
    run = _training_run(owner, replicate_id="r-fail")
    canceled = _training_run(owner, replicate_id="r-cancel")
    lifecycle = lifecycle_get("training")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.apply_remote(
            remote=RemoteJob(id="r-fail", status="failed", error="CUDA out of memory")
        )
        lifecycle.apply_remote(remote=RemoteJob(id="r-cancel", status="canceled"))
    [payload] = _delivered(receiver, endpoint)
    assert payload["type"] == "training.failed"
    assert payload["data"]["id"] == str(run.id)
    assert "GPU memory" in payload["data"]["error_message"]
    assert not Event.objects.filter(data__id=str(canceled.id)).exists()
    # A duplicated failure (Replicate retries its webhooks) publishes nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.apply_remote(remote=RemoteJob(id="r-fail", status="failed", error="again"))
    assert Event.objects.filter(owner=owner).count() == 1


def test_a_generation_that_succeeds_on_the_simulator_publishes_its_stored_pictures(
    owner, replicate_backend, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url, event_types=["generation.succeeded"])
    generation = make_generation(
        owner, status=JobStatus.STARTING, prompt_sent=f"a lighthouse {secrets.token_hex(4)}"
    )
    replicate_id = _run_on_simulator(generation)
    with django_capture_on_commit_callbacks(execute=True):
        done = lifecycle_get("prediction").refresh(replicate_id=replicate_id)
    assert done.status == JobStatus.SUCCEEDED

    [payload] = _delivered(receiver, endpoint)
    assert payload["type"] == "generation.succeeded"
    data = payload["data"]
    assert data["id"] == str(generation.id) and data["status"] == "succeeded"
    stored = list(GeneratedImage.objects.filter(generation=generation))
    assert [image["id"] for image in data["images"]] == [str(image.id) for image in stored]
    # Published once the pictures are stored and scanned: none is still pending.
    assert {image["moderation_state"] for image in data["images"]} <= {"approved", "held"}


def test_a_generation_that_fails_publishes_generation_failed(
    owner, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url)
    generation = make_generation(owner, status=JobStatus.PROCESSING, replicate_id="p-1")
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle_get("prediction").apply_remote(
            remote=RemoteJob(id="p-1", status="failed", error="NSFW content detected")
        )
    [payload] = _delivered(receiver, endpoint)
    assert payload["type"] == "generation.failed"
    assert payload["data"]["id"] == str(generation.id) and payload["data"]["images"] == []
    assert "safety checker" in payload["data"]["error_message"]


def test_a_picture_held_by_the_scan_and_then_rejected_publishes_both(
    owner, moderator, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url, event_types=["image.held", "image.rejected"])
    generation = make_generation(owner, review_category="sexual")
    image = make_image(owner, generation=generation, moderation=Moderation.PENDING)
    with django_capture_on_commit_callbacks(execute=True):
        image_scan(image=image)
        image_scan(image=image)  # scanned twice: held once
    [held] = _delivered(receiver, endpoint)
    assert held["type"] == "image.held"
    assert held["data"]["id"] == str(image.id) and held["data"]["moderation_state"] == "held"
    assert held["data"]["url"].endswith(f"/api/v1/images/{image.id}/")

    with django_capture_on_commit_callbacks(execute=True):
        image_decide(moderator=moderator, image=image, decision="rejected", reason="Nudity.")
    rejected = _delivered(receiver, endpoint, 2)[1]
    assert rejected["type"] == "image.rejected"
    assert rejected["data"]["moderation_state"] == "rejected"
    assert rejected["data"]["moderation_reason"] == "Nudity."
    assert list(Event.objects.values_list("type", flat=True).order_by("seq")) == [
        "image.held",
        "image.rejected",
    ]


def test_an_approved_picture_publishes_nothing(owner, moderator):
    image = make_image(owner, moderation=Moderation.PENDING)
    image_scan(image=image)
    image.refresh_from_db()
    assert image.moderation_state == Moderation.APPROVED
    image_decide(moderator=moderator, image=image, decision="approved")
    assert not Event.objects.exists()


def test_an_export_that_is_ready_publishes_export_ready(
    owner, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    endpoint = endpoint_for(receiver.url, event_types=["export.ready"])
    export = DataExport.objects.create(user=owner)
    with django_capture_on_commit_callbacks(execute=True):
        data_export_build(export_id=export.pk)
    [payload] = _delivered(receiver, endpoint)
    assert payload["type"] == "export.ready"
    assert payload["data"]["id"] == str(export.id) and payload["data"]["status"] == "ready"
    assert payload["data"]["download_url"].endswith(f"/api/v1/me/export/{export.id}/download/")
    assert payload["data"]["size_bytes"] > 0
