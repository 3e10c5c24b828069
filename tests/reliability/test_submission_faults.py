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

import secrets
import time

import httpx
import pytest
from django.utils import timezone

from accounts.selectors import credit_balance
from core import replicate_gateway
from core.models import JobStatus, WebhookDelivery
from core.remote_jobs.tasks import remote_jobs_reconcile_task
from core.webhooks import webhook_url
from gallery.models import Generation
from tests.reliability.jobs import (
    CREDITS,
    FAST_RETRIES,
    PAUSED_AFTER_CREATE,
    charges,
    generate,
    predictions_since,
    train,
    trainings_since,
    versions_of,
    wait_for_end,
)
from tests.simulator_fixtures import wait_until
from trainings.models import LoraModel

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# --- The worker dies between the create and the commit ------------------------------------------


def test_a_generation_whose_worker_died_after_the_create_runs_once_and_charges_once(
    workers, funded, trained, as_user, since
):
    first = workers.start(**PAUSED_AFTER_CREATE)
    generation = generate(funded, trained, as_user)
    workers.wait_for_line(first, "before recording it")
    workers.kill(first)
    generation.refresh_from_db()
    assert generation.status == JobStatus.SUBMITTING and generation.replicate_id is None
    (created,) = predictions_since(since, generation.prompt)

    workers.start(**FAST_RETRIES)
    remote_jobs_reconcile_task.delay()  # what beat runs every RECONCILE_INTERVAL_SECONDS
    ended = wait_for_end(generation)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    assert ended.replicate_id == created.id
    assert [remote.id for remote in predictions_since(since, generation.prompt)] == [created.id]
    assert created.version == trained.version_id
    assert charges(ended) == ["capture"]
    assert credit_balance(user=funded) == CREDITS - ended.cost
    assert ended.images.count() == ended.num_outputs


def test_a_training_whose_worker_died_after_the_create_runs_once_and_charges_once(
    workers, funded, simulator, since
):
    first = workers.start(**PAUSED_AFTER_CREATE)
    run = train(funded)
    workers.wait_for_line(first, "before recording it")
    workers.kill(first)
    run.refresh_from_db()
    assert run.status == JobStatus.SUBMITTING and run.replicate_id is None
    trigger_word = run.lora_model.trigger_word
    (created,) = trainings_since(since, trigger_word)

    workers.start(**FAST_RETRIES)
    remote_jobs_reconcile_task.delay()
    ended = wait_for_end(run)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    assert ended.replicate_id == created.id
    assert [remote.id for remote in trainings_since(since, trigger_word)] == [created.id]
    # One training, so one version pushed to the person's model.
    destination = LoraModel.objects.get(pk=run.lora_model_id)
    assert versions_of(simulator, destination.replicate_full_name) == [
        destination.current_version.replicate_version_id
    ]
    assert charges(ended) == ["capture"]
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
    generation = generate(funded, trained, as_user)
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
    ended = wait_for_end(generation)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    assert [r.id for r in predictions_since(since, generation.prompt)] == [ended.replicate_id]
    assert charges(ended) == ["capture"]


def test_a_training_whose_create_answer_was_lost_runs_once(workers, funded, simulator, since):
    """The training is created at once, its answer comes after our timeout."""
    worker = workers.start(**FAST_RETRIES)
    simulator.configure(slow_create_seconds=2)
    run = train(funded)
    ended = wait_for_end(run)

    assert ended.status == JobStatus.SUCCEEDED, ended.error_message
    trigger_word = run.lora_model.trigger_word
    assert [r.id for r in trainings_since(since, trigger_word)] == [ended.replicate_id]
    assert "adopted replicate job" in worker.log_text()
    assert charges(ended) == ["capture"]


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
