"""The remote-job kernel, run through the same cases for every kind of job it serves.

A training run and a generation differ in what they send and what a success produces (a model
version, stored pictures); everything else — forward-only status, credits settled once,
cancel, duplicate and out-of-order events, a lost webhook, a job without a reservation, a
submission that gives up — must behave the same. Each case runs against both kinds.
"""

from __future__ import annotations

import base64
import io
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_grant, credits_reserve
from core import replicate_gateway
from core.models import JobStatus
from core.remote_jobs import RemoteJobLifecycle, lifecycle_get
from core.remote_jobs.tasks import (
    backoff_wait,
    remote_job_refresh_task,
    remote_job_submit_task,
    remote_jobs_reconcile_task,
)
from core.replicate_gateway import RemoteJob
from gallery.models import GeneratedImage
from tests.gallery.factories import make_generation
from tests.replicate_sim.helpers import training_zip
from tests.simulator_fixtures import wait_until
from trainings.models import Dataset, DatasetImage, LoraModel, LoraVersion, TrainingRun

pytestmark = pytest.mark.django_db

COST = 40


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 150, 120)).save(buffer, "JPEG")
    return buffer.getvalue()


def _png_data_uri(color=(90, 140, 200)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@dataclass
class Kind:
    """How to make one kind of job, what its success looks like, and how to run it for real."""

    name: str
    lifecycle: RemoteJobLifecycle

    def make(self, user, *, status=JobStatus.STARTING, replicate_id=None, reserve=True):
        if self.name == "training":
            lora_model = LoraModel.objects.create(
                owner=user,
                name="Me",
                trigger_word=f"ZOR{secrets.token_hex(3).upper()}",
                # A queued run's model may not exist on Replicate yet.
                replicate_owner="" if status == JobStatus.QUEUED else "avatars",
                replicate_name=None if status == JobStatus.QUEUED else f"me-{secrets.token_hex(4)}",
                status=LoraModel.Status.TRAINING,
            )
            dataset = Dataset.objects.create(owner=user, name="me")
            photo = DatasetImage(dataset=dataset, original_name="me.jpg", status="ready")
            photo.training_file.save("me.jpg", ContentFile(_jpeg()), save=False)
            photo.save()
            job = TrainingRun.objects.create(
                owner=user,
                dataset=dataset,
                lora_model=lora_model,
                status=status,
                replicate_id=replicate_id,
                total_steps=1000,
                cost_estimate=COST,
                parameters={"steps": 1000},
            )
        else:
            job = make_generation(
                user,
                status=status,
                replicate_id=replicate_id,
                cost=COST,
                # Its own input: what earlier tests left on the simulator never matches it.
                prompt_sent=f"ZORVEK {secrets.token_hex(4)} on a beach",
            )
        if reserve:
            credits_reserve(user=user, amount=COST, reason="test", reference=job.credit_reference)
        return job

    def success(self, replicate_id: str) -> RemoteJob:
        if self.name == "training":
            output = {"version": f"avatars/me:{secrets.token_hex(32)}", "weights": "https://x/w"}
        else:
            output = [_png_data_uri()]
        return RemoteJob(id=replicate_id, status="succeeded", output=output, logs="done")

    def produced(self, job) -> int:
        """How many results the success produced (model versions, stored pictures)."""
        if self.name == "training":
            return LoraVersion.objects.filter(training_run=job).count()
        return GeneratedImage.objects.filter(generation=job).count()

    def start_on_simulator(self, job) -> None:
        """Create the remote job on the simulator, its webhook going nowhere (lost)."""
        if self.name == "training":
            model = replicate_gateway.destination_model_create(name=job.lora_model.replicate_name)
            job.lora_model.replicate_owner = model.owner
            job.lora_model.save(update_fields=["replicate_owner"])
            images_url = replicate_gateway.file_upload(
                data=training_zip().read(), filename="photos.zip", content_type="application/zip"
            )
            remote = replicate_gateway.training_start(
                destination=model.full_name,
                training_input={"input_images": images_url, "steps": 100, "trigger_word": "TOK"},
                webhook_url=None,
            )
        else:
            remote = replicate_gateway.prediction_start(
                prediction_input={"prompt": "a lighthouse", "num_outputs": 1},
                model_name="black-forest-labs/flux-schnell",
                webhook_url=None,
            )
        type(job).objects.filter(pk=job.pk).update(
            replicate_id=remote.id, last_event_at=timezone.now() - timedelta(hours=1)
        )

    def remote_get(self, replicate_id: str) -> RemoteJob:
        return self.lifecycle.remote_get(replicate_id)


@pytest.fixture(params=["training", "prediction"])
def kind(request) -> Kind:
    return Kind(name=request.param, lifecycle=lifecycle_get(request.param))


@pytest.fixture
def funded(owner):
    credits_grant(user=owner, amount=1000, reason="test credits")
    return owner


def _settlements(job) -> list[str]:
    return sorted(
        CreditEntry.objects.filter(reference=job.credit_reference)
        .exclude(kind=CreditEntry.Kind.RESERVE)
        .values_list("kind", flat=True)
    )


def test_success_produces_its_result_and_captures_once(kind, funded):
    job = kind.make(funded, replicate_id="r-1")
    done = kind.lifecycle.apply_remote(remote=kind.success("r-1"))
    assert done.status == JobStatus.SUCCEEDED
    assert done.completed_at is not None
    assert kind.produced(done) == 1
    assert _settlements(job) == ["capture"]
    assert credit_balance(user=funded) == 1000 - COST


def test_a_duplicated_success_changes_nothing(kind, funded):
    job = kind.make(funded, replicate_id="r-1")
    success = kind.success("r-1")
    kind.lifecycle.apply_remote(remote=success)
    again = kind.lifecycle.apply_remote(remote=success)
    assert again.status == JobStatus.SUCCEEDED
    assert kind.produced(job) == 1
    assert _settlements(job) == ["capture"]


def test_failure_tells_why_in_plain_words_and_refunds(kind, funded):
    job = kind.make(funded, replicate_id="r-1")
    failed = kind.lifecycle.apply_remote(
        remote=RemoteJob(id="r-1", status="failed", error="Traceback…\nCUDA error: device lost")
    )
    assert failed.status == JobStatus.FAILED
    assert "CUDA error: device lost" in failed.error_message
    assert "Traceback" not in failed.error_message
    assert kind.produced(job) == 0
    assert _settlements(job) == ["refund"]
    assert credit_balance(user=funded) == 1000


def test_a_success_without_its_result_is_a_failure_that_refunds(kind, funded):
    job = kind.make(funded, replicate_id="r-1")
    empty = kind.lifecycle.apply_remote(remote=RemoteJob(id="r-1", status="succeeded"))
    assert empty.status == JobStatus.FAILED
    assert empty.error_message
    assert _settlements(job) == ["refund"]


def test_events_out_of_order_never_move_a_job_backwards(kind, funded):
    job = kind.make(funded, replicate_id="r-1")
    kind.lifecycle.apply_remote(remote=RemoteJob(id="r-1", status="processing"))
    late_start = kind.lifecycle.apply_remote(remote=RemoteJob(id="r-1", status="starting"))
    assert late_start.status == JobStatus.PROCESSING
    kind.lifecycle.apply_remote(remote=kind.success("r-1"))
    for status in ("processing", "starting", "failed", "canceled"):
        late = kind.lifecycle.apply_remote(remote=RemoteJob(id="r-1", status=status))
        assert late.status == JobStatus.SUCCEEDED
    assert _settlements(job) == ["capture"]


def test_a_success_after_a_failure_is_ignored(kind, funded):
    job = kind.make(funded, replicate_id="r-1")
    kind.lifecycle.apply_remote(remote=RemoteJob(id="r-1", status="failed", error="boom"))
    late = kind.lifecycle.apply_remote(remote=kind.success("r-1"))
    assert late.status == JobStatus.FAILED
    assert kind.produced(job) == 0
    assert _settlements(job) == ["refund"]


def test_cancel_before_it_was_sent_refunds_and_never_reaches_replicate(kind, funded):
    job = kind.make(funded, status=JobStatus.QUEUED)
    canceled = kind.lifecycle.cancel(job=job)
    assert canceled.status == JobStatus.CANCELED
    assert _settlements(job) == ["refund"]
    # The submission task that was queued finds nothing to send.
    assert kind.lifecycle.submit(job_id=job.pk).replicate_id is None
    with pytest.raises(Exception, match="already ended"):
        kind.lifecycle.cancel(job=canceled)


def test_a_canceled_remote_state_refunds(kind, funded):
    job = kind.make(funded, replicate_id="r-1")
    canceled = kind.lifecycle.apply_remote(remote=RemoteJob(id="r-1", status="canceled"))
    assert canceled.status == JobStatus.CANCELED
    assert _settlements(job) == ["refund"]


@pytest.mark.parametrize("outcome", ["success", "failed"])
def test_a_job_without_a_reservation_still_ends(kind, funded, outcome):
    """A job with nothing reserved (an administrator's free job, or one older than credits)
    must reach its end, not raise inside the transition and stay running forever."""
    job = kind.make(funded, replicate_id="r-1", reserve=False)
    remote = kind.success("r-1") if outcome == "success" else RemoteJob(id="r-1", status="failed")
    ended = kind.lifecycle.apply_remote(remote=remote)
    assert ended.status == (JobStatus.SUCCEEDED if outcome == "success" else JobStatus.FAILED)
    assert _settlements(job) == []
    assert credit_balance(user=funded) == 1000


def test_an_unknown_remote_job_is_ignored(kind):
    assert kind.lifecycle.apply_remote(remote=RemoteJob(id="nobody", status="succeeded")) is None


def test_a_lost_webhook_is_recovered_by_reconciliation(kind, funded, replicate_backend):
    job = kind.make(funded)
    kind.start_on_simulator(job)
    job.refresh_from_db()
    wait_until(
        lambda: kind.remote_get(job.replicate_id).is_terminal,
        message="the simulator did not finish the job",
    )
    assert remote_jobs_reconcile_task.delay().get() >= 1  # the refresh runs inline here
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert kind.produced(job) == 1
    assert _settlements(job) == ["capture"]


def test_reconciliation_resubmits_a_job_whose_submission_was_lost(kind, funded, monkeypatch):
    job = kind.make(funded, status=JobStatus.QUEUED)
    type(job).objects.filter(pk=job.pk).update(last_event_at=timezone.now() - timedelta(hours=1))
    sent = []
    monkeypatch.setattr(remote_job_submit_task, "delay", lambda *args: sent.append(args))
    assert kind.lifecycle.reconcile(quiet_for=timedelta(minutes=1)) == 1
    assert sent == [(kind.name, str(job.pk))]
    # Touched, so the next round does not submit it a second time while the first runs.
    assert kind.lifecycle.reconcile(quiet_for=timedelta(minutes=1)) == 0


def test_each_unanswered_try_moves_the_retry_and_keeps_when_the_failures_began(kind, funded):
    job = kind.make(funded, status=JobStatus.QUEUED)
    first = kind.lifecycle.submit_postpone(job_id=job.pk, reason="503", wait=5)
    job.refresh_from_db()
    began, first_retry = job.submit_failing_since, job.submit_retry_at
    assert began is not None and first == 5

    second = kind.lifecycle.submit_postpone(job_id=job.pk, reason="503", wait=20)
    job.refresh_from_db()
    assert second == 20
    assert job.submit_failing_since == began  # the page counts from the first failure
    assert job.submit_retry_at > first_retry


def test_a_submission_replicate_does_not_answer_waits_and_says_until_when(
    kind, funded, replicate_backend
):
    replicate_backend.configure(error_every=1, error_status=503)
    job = kind.make(funded, status=JobStatus.QUEUED)
    began = timezone.now()
    remote_job_submit_task.delay(kind.name, str(job.pk))
    job.refresh_from_db()

    # Not failed: it is tried again, until the deadline, and its credits stay set aside.
    assert job.status in (JobStatus.QUEUED, JobStatus.SUBMITTING)
    assert job.replicate_id is None and not job.error_message
    assert job.submit_failing_since >= began
    assert began < job.submit_retry_at <= job.submit_deadline
    assert job.submit_retrying_until == job.created_at + timedelta(minutes=10)
    assert _settlements(job) == []
    assert credit_balance(user=funded) == 1000 - COST


def test_a_submission_still_unanswered_at_its_deadline_fails_refunds_and_tells_the_owner(
    kind, funded, replicate_backend, mailoutbox, django_capture_on_commit_callbacks
):
    replicate_backend.configure(error_every=1, error_status=503)
    job = kind.make(funded, status=JobStatus.QUEUED)
    type(job).objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=11))
    with django_capture_on_commit_callbacks(execute=True):
        remote_job_submit_task.delay(kind.name, str(job.pk))
    job.refresh_from_db()

    assert job.status == JobStatus.FAILED
    assert job.replicate_id is None
    assert "did not answer for too long" in job.error_message
    assert "refunded" in job.error_message
    assert job.submit_retrying_until is None
    assert _settlements(job) == ["refund"]
    assert credit_balance(user=funded) == 1000
    (message,) = mailoutbox
    assert message.to == [funded.email]
    assert "refunded" in message.body or "yours again" in message.body
    assert str(job.pk) in message.body


def test_a_submission_that_ends_in_time_clears_nothing_it_should_not(
    kind, funded, replicate_backend
):
    """The outage ends before the deadline: the next try (here, reconciliation's) succeeds."""
    replicate_backend.configure(error_every=1, error_status=503)
    job = kind.make(funded, status=JobStatus.QUEUED)
    remote_job_submit_task.delay(kind.name, str(job.pk))
    replicate_backend.configure(error_every=0)
    # Its retry is long due (its task was lost), and the window in which a create answered
    # 503 might still appear on Replicate has passed: what reconciliation then does.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    type(job).objects.filter(pk=job.pk).update(
        submit_retry_at=an_hour_ago, last_event_at=an_hour_ago, submitted_at=an_hour_ago
    )
    assert kind.lifecycle.reconcile(quiet_for=timedelta(minutes=1)) == 1
    job.refresh_from_db()
    assert job.replicate_id and job.status not in (JobStatus.FAILED, JobStatus.CANCELED)
    assert job.submit_retrying_until is None


def test_reconciliation_leaves_a_submission_waiting_for_its_retry_alone(kind, funded, monkeypatch):
    job = kind.make(funded, status=JobStatus.SUBMITTING)
    an_hour_ago = timezone.now() - timedelta(hours=1)
    type(job).objects.filter(pk=job.pk).update(
        last_event_at=an_hour_ago,
        submitted_at=an_hour_ago,
        submit_failing_since=an_hour_ago,
        submit_retry_at=timezone.now() + timedelta(seconds=90),
    )
    sent = []
    monkeypatch.setattr(remote_job_submit_task, "delay", lambda *args: sent.append(args))
    assert kind.lifecycle.reconcile(quiet_for=timedelta(minutes=1)) == 0
    # Its task was lost: the retry is long overdue, and reconciliation sends it again.
    type(job).objects.filter(pk=job.pk).update(submit_retry_at=an_hour_ago)
    assert kind.lifecycle.reconcile(quiet_for=timedelta(minutes=1)) == 1
    assert sent == [(kind.name, str(job.pk))]


def test_the_retry_policy_backs_off_with_full_jitter_and_ends_at_a_deadline(settings):
    settings.REPLICATE_TASK_RETRY_BACKOFF_SECONDS = 2
    settings.REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS = 120
    for attempt, ceiling in [(0, 2), (1, 4), (3, 16), (6, 120), (30, 120)]:
        waits = [backoff_wait(attempt) for _ in range(200)]
        assert all(0 <= wait <= ceiling for wait in waits)
        assert max(waits) > ceiling / 2 and min(waits) < ceiling / 2  # spread, not fixed
    assert remote_job_submit_task.max_retries is None  # bounded by time, not by a count
    assert remote_job_submit_task.acks_late
    assert remote_job_refresh_task.max_retries and remote_job_refresh_task.max_retries < 20
    assert remote_job_refresh_task.retry_jitter is True


def test_submitting_twice_sends_once(kind, funded, replicate_backend):
    job = kind.make(funded, status=JobStatus.QUEUED)
    first = kind.lifecycle.submit(job_id=job.pk)
    second = kind.lifecycle.submit(job_id=job.pk)
    assert first.status != JobStatus.FAILED, first.error_message
    assert first.replicate_id and second.replicate_id == first.replicate_id
    client = replicate_backend.client()
    listing = client.trainings.list() if kind.name == "training" else client.predictions.list()
    assert [remote.id for remote in listing.results].count(first.replicate_id) == 1


# --- Submission that cannot duplicate -----------------------------------------------------------
#
# The intent (`submitting` and a digest of the input) is committed before the create call; a job
# found in `submitting` is looked up on Replicate and adopted before anything is created again;
# a remote job no row claims is canceled once.


class Killed(BaseException):
    """The worker dies: nothing after the create runs (not even except clauses for Exception)."""


def _remote_jobs_since(kind: Kind, since) -> list[RemoteJob]:
    return replicate_gateway.jobs_created_between(kind=kind.name, since=since)


@pytest.fixture
def since():
    """A moment after every remote job of earlier tests (the simulator's times are in ms)."""
    time.sleep(0.05)
    return timezone.now() - timedelta(milliseconds=10)


def _dies_after_the_create(kind: Kind, monkeypatch) -> list[RemoteJob]:
    """Make the next create reach Replicate and then kill the submission before it is stored."""
    created: list[RemoteJob] = []
    original = type(kind.lifecycle).remote_create

    def create_then_die(self, job, remote_input):
        created.append(original(self, job, remote_input))
        raise Killed

    monkeypatch.setattr(type(kind.lifecycle), "remote_create", create_then_die)
    return created


def _still_running_when_canceled(simulator) -> None:
    # The test simulator finishes jobs in a fraction of a second; on a busy machine one would
    # end before the cancel this test is about reaches it.
    simulator.configure(prediction_seconds=30, training_seconds=30)


def _stuck_after_the_create(kind: Kind, user, monkeypatch):
    job = kind.make(user, status=JobStatus.QUEUED)
    created = _dies_after_the_create(kind, monkeypatch)
    with pytest.raises(Killed):
        kind.lifecycle.submit(job_id=job.pk)
    monkeypatch.undo()
    job.refresh_from_db()
    assert job.status == JobStatus.SUBMITTING and job.replicate_id is None
    return job, created[0]


def test_the_intent_is_committed_before_the_create(kind, funded, replicate_backend, monkeypatch):
    job = kind.make(funded, status=JobStatus.QUEUED)
    seen = []
    original = type(kind.lifecycle).remote_create

    def create(self, job, remote_input):
        seen.append(type(job).objects.get(pk=job.pk))
        return original(self, job, remote_input)

    monkeypatch.setattr(type(kind.lifecycle), "remote_create", create)
    done = kind.lifecycle.submit(job_id=job.pk)
    (at_create,) = seen
    assert at_create.status == JobStatus.SUBMITTING
    assert at_create.submit_fingerprint and at_create.submit_token and at_create.submitted_at
    assert at_create.replicate_id is None
    assert done.replicate_id and done.status in (JobStatus.STARTING, JobStatus.PROCESSING)


def test_a_submission_run_again_after_its_worker_died_adopts_instead_of_creating(
    kind, funded, replicate_backend, monkeypatch, since
):
    job, created = _stuck_after_the_create(kind, funded, monkeypatch)
    again = kind.lifecycle.submit(job_id=job.pk)
    assert again.replicate_id == created.id
    assert again.status in (JobStatus.STARTING, JobStatus.PROCESSING, JobStatus.SUCCEEDED)
    assert [remote.id for remote in _remote_jobs_since(kind, since)] == [created.id]
    # And once more changes nothing.
    assert kind.lifecycle.submit(job_id=job.pk).replicate_id == created.id
    assert len(_remote_jobs_since(kind, since)) == 1


def test_reconciliation_adopts_a_job_stuck_in_submitting(
    kind, funded, replicate_backend, monkeypatch, since
):
    job, created = _stuck_after_the_create(kind, funded, monkeypatch)
    # Past the create window (60 s): still adopted, because it is found.
    type(job).objects.filter(pk=job.pk).update(
        submitted_at=timezone.now() - timedelta(minutes=2),
        last_event_at=timezone.now() - timedelta(minutes=2),
    )
    assert kind.lifecycle.reconcile(quiet_for=timedelta(seconds=30)) == 1  # the task runs inline
    job.refresh_from_db()
    assert job.replicate_id == created.id
    assert [remote.id for remote in _remote_jobs_since(kind, since)] == [created.id]


def test_a_create_whose_answer_is_lost_is_looked_up_not_repeated(
    kind, funded, replicate_backend, settings, since
):
    settings.REPLICATE_TIMEOUT_SECONDS = 0.5
    replicate_backend.configure(slow_create_seconds=1.5)  # created at once, answered too late
    job = kind.make(funded, status=JobStatus.QUEUED)
    done = kind.lifecycle.submit(job_id=job.pk)
    remotes = _remote_jobs_since(kind, since)
    assert [remote.id for remote in remotes] == [done.replicate_id]
    assert done.status != JobStatus.FAILED


def test_nothing_found_within_the_window_waits_and_after_it_creates_once(
    kind, funded, replicate_backend, monkeypatch, since
):
    """The create was sent (the digest is recorded) but never reached Replicate."""
    job = kind.make(funded, status=JobStatus.QUEUED)

    def lost_on_the_way(self, job, remote_input):
        raise Killed

    monkeypatch.setattr(type(kind.lifecycle), "remote_create", lost_on_the_way)
    with pytest.raises(Killed):
        kind.lifecycle.submit(job_id=job.pk)
    monkeypatch.undo()
    with pytest.raises(replicate_gateway.ReplicateUnavailable):  # within the window: look later
        kind.lifecycle.submit(job_id=job.pk)
    assert _remote_jobs_since(kind, since) == []
    type(job).objects.filter(pk=job.pk).update(submitted_at=timezone.now() - timedelta(hours=1))
    done = kind.lifecycle.submit(job_id=job.pk)
    assert done.replicate_id
    assert [remote.id for remote in _remote_jobs_since(kind, since)] == [done.replicate_id]


def test_a_create_refused_before_it_did_anything_is_sent_again_without_looking(
    kind, funded, replicate_backend, monkeypatch
):
    job = kind.make(funded, status=JobStatus.QUEUED)
    calls = {"create": 0}
    original = type(kind.lifecycle).remote_create

    def throttled_once(self, job, remote_input):
        calls["create"] += 1
        if calls["create"] == 1:
            raise replicate_gateway.ReplicateUnavailable("busy", status=429)
        return original(self, job, remote_input)

    monkeypatch.setattr(type(kind.lifecycle), "remote_create", throttled_once)
    with pytest.raises(replicate_gateway.ReplicateUnavailable):
        kind.lifecycle.submit(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUBMITTING and not job.submit_fingerprint

    def no_look_up(*args, **kwargs):
        raise AssertionError("nothing was created: no look-up needed")

    monkeypatch.setattr(type(kind.lifecycle), "remote_created_between", no_look_up)
    assert kind.lifecycle.submit(job_id=job.pk).replicate_id
    assert calls["create"] == 2


def test_a_remote_job_no_row_claims_is_canceled_once(
    kind, funded, replicate_backend, monkeypatch, caplog
):
    _still_running_when_canceled(replicate_backend)
    stray = kind.make(funded)
    kind.start_on_simulator(stray)  # created on Replicate...
    stray.refresh_from_db()
    remote_id = stray.replicate_id
    type(stray).objects.filter(pk=stray.pk).update(replicate_id=None)  # ...and claimed by no row
    canceled = []
    original = type(kind.lifecycle).remote_cancel

    def cancel(self, replicate_id):
        canceled.append(replicate_id)
        return original(self, replicate_id)

    monkeypatch.setattr(type(kind.lifecycle), "remote_cancel", cancel)
    assert kind.lifecycle.refresh(replicate_id=remote_id) is None
    assert canceled == [remote_id]
    assert kind.remote_get(remote_id).status == "canceled"
    assert kind.lifecycle.refresh(replicate_id=remote_id) is None  # its next webhook
    assert canceled == [remote_id]
    assert [r.message for r in caplog.records].count(
        f"replicate {kind.name} {remote_id} is no {kind.lifecycle.noun} of ours "
        "(a duplicate or a stray): canceled"
    ) == 1


def test_a_remote_job_whose_row_is_still_submitting_is_not_taken_for_an_orphan(
    kind, funded, replicate_backend, monkeypatch
):
    job, created = _stuck_after_the_create(kind, funded, monkeypatch)
    # Its `start` webhook arrives before the worker recorded the id.
    assert kind.lifecycle.refresh(replicate_id=created.id) is None
    assert kind.remote_get(created.id).status != "canceled"
    assert kind.lifecycle.submit(job_id=job.pk).replicate_id == created.id


def test_canceling_a_job_stuck_in_submitting_stops_what_its_create_made(
    kind, funded, replicate_backend, monkeypatch
):
    _still_running_when_canceled(replicate_backend)
    job, created = _stuck_after_the_create(kind, funded, monkeypatch)
    canceled = kind.lifecycle.cancel(job=job)
    assert canceled.status == JobStatus.CANCELED
    assert _settlements(job) == ["refund"]
    assert kind.remote_get(created.id).status == "canceled"


def test_a_submission_that_gives_up_adopts_what_it_created_after_all(
    kind, funded, replicate_backend, monkeypatch
):
    job, created = _stuck_after_the_create(kind, funded, monkeypatch)
    adopted = kind.lifecycle.submit_give_up(job_id=job.pk, message="gave up")
    assert adopted.replicate_id == created.id
    assert adopted.status != JobStatus.FAILED
    assert _settlements(job) in ([], ["capture"])
