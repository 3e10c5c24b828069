"""What the fault tests share: making a job as its service does, waiting for its end, and
reading what reached Replicate and the ledger."""

from __future__ import annotations

import secrets

from django.core.files.base import ContentFile

from accounts.models import CreditEntry
from accounts.services import credits_reserve
from core import replicate_gateway
from core.remote_jobs.tasks import remote_job_submit_task
from gallery.models import Generation
from tests.gallery.factories import picture, ready_lora_model
from tests.simulator_fixtures import wait_until
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun

CREDITS = 1000
# The workers' Replicate timeout: the create window (when a create not found yet may still
# appear) is twice that.
TIMEOUT = "1"
FAST_RETRIES = {
    "REPLICATE_TIMEOUT_SECONDS": TIMEOUT,
    "REPLICATE_TASK_RETRY_BACKOFF_SECONDS": "1",
    "REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS": "2",
    "TRAINING_RECONCILE_AFTER_SECONDS": "1",
    "GENERATION_RECONCILE_AFTER_SECONDS": "1",
}
PAUSED_AFTER_CREATE = {**FAST_RETRIES, "REMOTE_JOBS_TEST_PAUSE_AFTER_CREATE_SECONDS": "60"}


def generate(user, trained, as_user) -> Generation:
    lora = ready_lora_model(user, trained, trigger_word="ZORVEK", name="Me")
    response = as_user(user).post(
        "/api/v1/generations/",
        {"lora_model": str(lora.id), "prompt": f"me {secrets.token_hex(4)}", "seed": 11},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Generation.objects.get(pk=response.json()["generations"][0]["id"])


def train(user) -> TrainingRun:
    """A run as `training_run_start` leaves it: queued, credits reserved, its task sent."""
    lora_model = LoraModel.objects.create(
        owner=user,
        name="Me",
        trigger_word=f"ZOR{secrets.token_hex(3).upper()}",
        status=LoraModel.Status.TRAINING,
    )
    dataset = Dataset.objects.create(owner=user, name="me")
    photo = DatasetImage(dataset=dataset, original_name="me.jpg", status="ready")
    photo.training_file.save("me.jpg", ContentFile(picture(size=(64, 64), fmt="JPEG")), save=False)
    photo.save()
    run = TrainingRun.objects.create(
        owner=user,
        dataset=dataset,
        lora_model=lora_model,
        total_steps=100,
        cost_estimate=20,
        parameters={"steps": 100},
    )
    credits_reserve(user=user, amount=20, reason="test", reference=run.credit_reference)
    remote_job_submit_task.delay("training", str(run.id))
    return run


def wait_for_end(job, timeout: float = 20.0):
    def done():
        job.refresh_from_db()
        return job.is_terminal

    wait_until(done, timeout=timeout, interval=0.1, message=f"{job} did not end: {job.status}")
    return job


def charges(job) -> list[str]:
    return sorted(
        CreditEntry.objects.filter(reference=job.credit_reference)
        .exclude(kind=CreditEntry.Kind.RESERVE)
        .values_list("kind", flat=True)
    )


def predictions_since(since, prompt: str) -> list[replicate_gateway.RemoteJob]:
    found = replicate_gateway.predictions_created_between(since=since)
    return [remote for remote in found if prompt in remote.input.get("prompt", "")]


def trainings_since(since, trigger_word: str) -> list[replicate_gateway.RemoteJob]:
    found = replicate_gateway.trainings_created_since(since=since)
    return [remote for remote in found if remote.input.get("trigger_word") == trigger_word]


def versions_of(simulator, full_name: str) -> list[str]:
    model = simulator.client().models.get(full_name)
    return [version.id for version in model.versions.list().results]
