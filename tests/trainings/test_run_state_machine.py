"""The training run state machine: only forward, idempotent, with credits settled once."""

import pytest

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_grant, credits_reserve
from core.replicate_gateway import RemoteJob
from trainings.models import Dataset, LoraModel, LoraVersion, TrainingRun
from trainings.services import training_run_cancel, training_run_jobs

pytestmark = pytest.mark.django_db

VERSION = "a" * 64


@pytest.fixture
def run(owner):
    credits_grant(user=owner, amount=1000, reason="test credits")
    dataset = Dataset.objects.create(owner=owner, name="me")
    lora_model = LoraModel.objects.create(
        owner=owner,
        name="Me",
        trigger_word="ZORVAK",
        replicate_owner="avatars",
        replicate_name="zorvak-1",
        status=LoraModel.Status.TRAINING,
    )
    run = TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        lora_model=lora_model,
        status=TrainingRun.Status.STARTING,
        replicate_id="tr_1",
        total_steps=1000,
        cost_estimate=200,
        parameters={"steps": 1000},
    )
    credits_reserve(user=owner, amount=200, reason="Training", reference=f"training_run:{run.id}")
    return run


def job(status, **extra):
    return RemoteJob(id="tr_1", status=status, **extra)


def _settlements(run):
    return list(
        CreditEntry.objects.filter(reference=f"training_run:{run.id}")
        .exclude(kind=CreditEntry.Kind.RESERVE)
        .values_list("kind", flat=True)
    )


def test_progress_is_parsed_from_the_trainer_logs(run):
    logs = "Starting train job\nflux_train_replicate:  12%|#2  | 120/1000 [01:00<07:20, 2.0it/s]\n"
    updated = training_run_jobs.apply_remote(remote=job("processing", logs=logs))
    assert updated.status == TrainingRun.Status.PROCESSING
    assert (updated.current_step, updated.total_steps) == (120, 1000)
    assert updated.progress == pytest.approx(0.12)


def test_success_creates_the_version_makes_the_model_ready_and_captures(
    run, owner, mailoutbox, django_capture_on_commit_callbacks
):
    output = {"version": f"avatars/zorvak-1:{VERSION}", "weights": "https://x/w.tar"}
    with django_capture_on_commit_callbacks(execute=True):
        finished = training_run_jobs.apply_remote(
            remote=job("succeeded", output=output, metrics={"predict_time": 600.0})
        )
    assert finished.status == TrainingRun.Status.SUCCEEDED
    assert finished.progress == 1.0
    assert finished.cost_actual == 92  # 600 s at 0.1528 credits a second, rounded up
    lora_model = LoraModel.objects.get(pk=run.lora_model_id)
    assert lora_model.status == LoraModel.Status.READY
    assert lora_model.current_version.replicate_version_id == VERSION
    assert _settlements(run) == [CreditEntry.Kind.CAPTURE]
    assert credit_balance(user=owner) == 800
    assert len(mailoutbox) == 1 and "ready" in mailoutbox[0].subject


def test_duplicate_and_late_events_change_nothing(
    run, owner, mailoutbox, django_capture_on_commit_callbacks
):
    output = {"version": f"avatars/zorvak-1:{VERSION}", "weights": "https://x/w.tar"}
    with django_capture_on_commit_callbacks(execute=True):
        training_run_jobs.apply_remote(remote=job("succeeded", output=output))
        training_run_jobs.apply_remote(remote=job("succeeded", output=output))  # duplicated webhook
        late = training_run_jobs.apply_remote(remote=job("processing", logs="50%|#| 500/1000"))
        failed_late = training_run_jobs.apply_remote(remote=job("failed", error="boom"))
    assert late.status == failed_late.status == TrainingRun.Status.SUCCEEDED
    assert LoraVersion.objects.count() == 1
    assert _settlements(run) == [CreditEntry.Kind.CAPTURE]
    assert len(mailoutbox) == 1


def test_a_start_event_after_processing_does_not_move_back(run):
    training_run_jobs.apply_remote(remote=job("processing"))
    assert (
        training_run_jobs.apply_remote(remote=job("starting")).status
        == TrainingRun.Status.PROCESSING
    )


def test_failure_refunds_once_and_says_why_in_plain_words(run, owner):
    error = "RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB"
    failed = training_run_jobs.apply_remote(remote=job("failed", error=error))
    training_run_jobs.apply_remote(remote=job("failed", error=error))
    assert failed.status == TrainingRun.Status.FAILED
    assert failed.error_message.startswith("The training ran out of GPU memory")
    assert "RuntimeError" not in failed.error_message
    assert _settlements(run) == [CreditEntry.Kind.REFUND]
    assert credit_balance(user=owner) == 1000
    assert LoraModel.objects.get(pk=run.lora_model_id).status == LoraModel.Status.FAILED


def test_success_without_a_version_is_a_failure(run, owner):
    finished = training_run_jobs.apply_remote(remote=job("succeeded", output={"weights": "x"}))
    assert finished.status == TrainingRun.Status.FAILED
    assert "without producing" in finished.error_message
    assert credit_balance(user=owner) == 1000


def test_an_unknown_training_is_ignored(run):
    assert (
        training_run_jobs.apply_remote(remote=RemoteJob(id="someone-else", status="failed")) is None
    )
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.STARTING


def test_canceling_a_queued_run_refunds_without_calling_replicate(run, owner):
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.QUEUED, replicate_id=None
    )
    run.refresh_from_db()
    canceled = training_run_cancel(run=run)
    assert canceled.status == TrainingRun.Status.CANCELED
    assert credit_balance(user=owner) == 1000


def test_a_run_whose_dataset_lost_its_photos_fails_plainly_before_reaching_replicate(run, owner):
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.QUEUED, replicate_id=None
    )
    failed = training_run_jobs.submit(job_id=run.pk)
    assert failed.status == TrainingRun.Status.FAILED
    assert failed.error_message == "The dataset of this run has no usable photos left."
    assert _settlements(run) == ["refund"]
