"""Submission that cannot duplicate, tried with real Celery workers and the simulator.

Replicate's creates are not idempotent and bill each job. Whatever goes wrong between the create
and the moment its id is recorded, a training run or a generation must end with exactly one
remote job and one charge:

- the worker is SIGKILLed after the create returned and before the id was committed (it pauses
  there on REMOTE_JOBS_TEST_PAUSE_AFTER_CREATE_SECONDS, so the kill lands there every time); a
  new worker and the beat's reconciliation find the remote job and adopt it;
- the create's answer never arrives in time (the gateway times out) although the job was
  created: it is looked up and adopted, before and after the job appears on Replicate;
- a remote job that no row claims (a stray, with our webhook) is canceled, once.
"""

from __future__ import annotations

import io
import secrets
import time
from datetime import timedelta

import httpx
import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_grant, credits_reserve
from core import replicate_gateway
from core.models import JobStatus, WebhookDelivery
from core.remote_jobs.tasks import remote_job_submit_task, remote_jobs_reconcile_task
from core.webhooks import webhook_url
from gallery.models import Generation
from tests.gallery.factories import ready_lora_model, train_version
from tests.reliability.workers import workers_running
from tests.simulator_fixtures import wait_until
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

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


@pytest.fixture
def workers(transactional_db, settings, replicate_backend, live_server, tmp_path):
    yield from workers_running(settings=settings, live_server=live_server, tmp_path=tmp_path)


@pytest.fixture(scope="module")
def trained(replicate_simulator):
    return train_version(replicate_simulator)


@pytest.fixture
def since():
    time.sleep(0.05)  # every remote job of earlier tests is older (the simulator counts in ms)
    return timezone.now() - timedelta(milliseconds=10)


@pytest.fixture
def funded(owner):
    credits_grant(user=owner, amount=CREDITS, reason="test credits")
    return owner


def _generate(user, trained, as_user) -> Generation:
    lora = ready_lora_model(user, trained, trigger_word="ZORVEK", name="Me")
    response = as_user(user).post(
        "/api/v1/generations/",
        {"lora_model": str(lora.id), "prompt": f"me {secrets.token_hex(4)}", "seed": 11},
        format="json",
    )
    assert response.status_code == 201, response.json()
    return Generation.objects.get(pk=response.json()["generations"][0]["id"])


def _photo() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def _train(user) -> TrainingRun:
    """A run as `training_run_start` leaves it: queued, credits reserved, its task sent."""
    lora_model = LoraModel.objects.create(
        owner=user,
        name="Me",
        trigger_word=f"ZOR{secrets.token_hex(3).upper()}",
        status=LoraModel.Status.TRAINING,
    )
    dataset = Dataset.objects.create(owner=user, name="me")
    photo = DatasetImage(dataset=dataset, original_name="me.jpg", status="ready")
    photo.training_file.save("me.jpg", ContentFile(_photo()), save=False)
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


def _ended(job, timeout: float = 20.0):
    def done():
        job.refresh_from_db()
        return job.is_terminal

    wait_until(done, timeout=timeout, interval=0.1, message=f"{job} did not end: {job.status}")
    return job


def _charges(job) -> list[str]:
    return sorted(
        CreditEntry.objects.filter(reference=job.credit_reference)
        .exclude(kind=CreditEntry.Kind.RESERVE)
        .values_list("kind", flat=True)
    )


def _predictions_since(since, prompt: str) -> list[replicate_gateway.RemoteJob]:
    found = replicate_gateway.predictions_created_between(since=since)
    return [remote for remote in found if prompt in remote.input.get("prompt", "")]


def _trainings_since(since, trigger_word: str) -> list[replicate_gateway.RemoteJob]:
    found = replicate_gateway.trainings_created_since(since=since)
    return [remote for remote in found if remote.input.get("trigger_word") == trigger_word]


def _versions_of(simulator, full_name: str) -> list[str]:
    model = simulator.client().models.get(full_name)
    return [version.id for version in model.versions.list().results]


# --- The worker dies between the create and the commit ------------------------------------------


def test_a_generation_whose_worker_died_after_the_create_runs_once_and_charges_once(
    workers, funded, trained, as_user, since
):
    first = workers.start(**PAUSED_AFTER_CREATE)
    generation = _generate(funded, trained, as_user)
    workers.wait_for_line(first, "before recording it")
    workers.kill(first)
    generation.refresh_from_db()
    assert generation.status == JobStatus.SUBMITTING and generation.replicate_id is None
    (created,) = _predictions_since(since, generation.prompt)

    workers.start(**FAST_RETRIES)
    remote_jobs_reconcile_task.delay()  # what beat runs every RECONCILE_INTERVAL_SECONDS
    ended = _ended(generation)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    assert ended.replicate_id == created.id
    assert [remote.id for remote in _predictions_since(since, generation.prompt)] == [created.id]
    assert created.version == trained.version_id
    assert _charges(ended) == ["capture"]
    assert credit_balance(user=funded) == CREDITS - ended.cost
    assert ended.images.count() == ended.num_outputs


def test_a_training_whose_worker_died_after_the_create_runs_once_and_charges_once(
    workers, funded, simulator, since
):
    first = workers.start(**PAUSED_AFTER_CREATE)
    run = _train(funded)
    workers.wait_for_line(first, "before recording it")
    workers.kill(first)
    run.refresh_from_db()
    assert run.status == JobStatus.SUBMITTING and run.replicate_id is None
    trigger_word = run.lora_model.trigger_word
    (created,) = _trainings_since(since, trigger_word)

    workers.start(**FAST_RETRIES)
    remote_jobs_reconcile_task.delay()
    ended = _ended(run)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    assert ended.replicate_id == created.id
    assert [remote.id for remote in _trainings_since(since, trigger_word)] == [created.id]
    # One training, so one version pushed to the person's model.
    destination = LoraModel.objects.get(pk=run.lora_model_id)
    assert _versions_of(simulator, destination.replicate_full_name) == [
        destination.current_version.replicate_version_id
    ]
    assert _charges(ended) == ["capture"]
    assert credit_balance(user=funded) == CREDITS - 20


# --- The create's answer is lost, the job was created ---------------------------------------


def test_a_generation_whose_create_timed_out_but_was_made_runs_once(
    workers, funded, trained, as_user, simulator, since
):
    """Replicate is slow: the create lands after our timeout, and after the first look-ups.

    The job must not be created again while it may still appear (the create window); it is
    adopted once it is found."""
    workers.start(**FAST_RETRIES)
    simulator.configure(slow_seconds=2.5)  # every /v1 answer: longer than the 1 s timeout
    generation = _generate(funded, trained, as_user)
    with httpx.Client(timeout=10) as http:

        def created() -> bool:
            answer = http.get(
                f"{simulator.base_url}/v1/predictions",
                headers={"Authorization": f"Bearer {simulator.token}"},
            )
            prompts = [p["input"].get("prompt", "") for p in answer.json()["results"]]
            return any(generation.prompt in prompt for prompt in prompts)

        wait_until(created, timeout=15, interval=0.2, message="the slow create never landed")
    generation.refresh_from_db()
    assert generation.replicate_id is None  # its worker has had no answer yet
    simulator.configure(slow_seconds=0)
    ended = _ended(generation)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    assert [r.id for r in _predictions_since(since, generation.prompt)] == [ended.replicate_id]
    assert _charges(ended) == ["capture"]


def test_a_training_whose_create_answer_was_lost_runs_once(workers, funded, simulator, since):
    """The training is created at once, its answer comes after our timeout."""
    worker = workers.start(**FAST_RETRIES)
    simulator.configure(slow_create_seconds=2)
    run = _train(funded)
    ended = _ended(run)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    trigger_word = run.lora_model.trigger_word
    assert [r.id for r in _trainings_since(since, trigger_word)] == [ended.replicate_id]
    assert "adopted replicate job" in worker.log_text()
    assert _charges(ended) == ["capture"]


# --- A remote job no row claims --------------------------------------------------------------


def test_a_stray_remote_job_with_our_webhook_is_canceled_once(workers, simulator):
    worker = workers.start(**FAST_RETRIES)
    with simulator.http() as http:
        answer = http.post(
            "/v1/models/black-forest-labs/flux-schnell/predictions",
            json={
                "input": {"prompt": f"nobody asked {secrets.token_hex(4)}"},
                "webhook": webhook_url(kind="prediction"),
                "webhook_events_filter": ["start", "completed"],
            },
            headers={"X-Sim-Duration": "30"},  # still running when its webhook is handled
        )
    assert answer.status_code == 201, answer.text
    stray = answer.json()["id"]

    wait_until(
        lambda: replicate_gateway.prediction_get(prediction_id=stray).status == "canceled",
        timeout=15,
        message="the stray prediction was not canceled",
    )
    # Its `completed` webhook (status canceled) comes back and changes nothing.
    wait_until(
        lambda: any(
            attempt["event"] == "completed" and attempt["delivered"]
            for attempt in simulator.webhook_attempts(stray)
        ),
        timeout=10,
    )
    # Both refreshes (the `start` and the `completed` webhooks') have run.
    wait_until(
        lambda: worker.log_text().count("remote_job_refresh_task[") >= 4,  # received, succeeded
        timeout=10,
    )
    assert worker.log_text().count(f"replicate prediction {stray} is no generation of ours") == 1
    assert WebhookDelivery.objects.filter(webhook_id=f"orphan:prediction:{stray}").count() == 1
    assert not Generation.objects.filter(replicate_id=stray).exists()


# --- The configured timeout bounds every call ---------------------------------------------------


@pytest.mark.parametrize("call", ["prediction create", "training create", "upload", "list"])
def test_the_configured_timeout_bounds_every_call_creates_included(
    call, settings, replicate_backend
):
    """The `replicate` client sends creates and uploads with no timeout at all; the gateway
    bounds them (uploads by their own setting), and a create that times out is unconfirmed."""
    settings.REPLICATE_TIMEOUT_SECONDS = 0.5
    settings.REPLICATE_UPLOAD_TIMEOUT_SECONDS = 0.5
    replicate_backend.configure(slow_seconds=3)
    began = time.monotonic()
    if call == "prediction create":
        with pytest.raises(replicate_gateway.ReplicateUnconfirmed):
            replicate_gateway.prediction_start(
                model_name="black-forest-labs/flux-schnell", prediction_input={"prompt": "x"}
            )
    elif call == "training create":
        with pytest.raises(replicate_gateway.ReplicateUnconfirmed):
            replicate_gateway.training_start(
                destination="avatars/nowhere", training_input={}, webhook_url=None
            )
    elif call == "upload":
        with pytest.raises(replicate_gateway.ReplicateUnavailable):
            replicate_gateway.file_upload(data=b"zip", filename="a.zip", content_type="x/zip")
    else:
        with pytest.raises(replicate_gateway.ReplicateUnavailable) as caught:
            replicate_gateway.predictions_created_between(since=timezone.now())
        assert not isinstance(caught.value, replicate_gateway.ReplicateUnconfirmed)
    # One attempt for a create, four for a call that is safe to repeat: never the 120 s or
    # the unbounded wait of before.
    assert time.monotonic() - began < 4 * 0.5 + 1.5
