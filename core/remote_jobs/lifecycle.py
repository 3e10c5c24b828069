"""The life of a job on Replicate, written once for every kind of job.

A training run and a generation are both a `core.models.ReplicateJob`: queued here, created on
Replicate by a task, moved by signed webhooks and by polling, ended with their credits settled.
`RemoteJobLifecycle` is the only code that changes a job's status. Each kind of job subclasses
it with only what is its own: how the remote job is created, read and canceled, what a remote
state adds to the row (logs, progress, a seed), what a success produces (a model version,
stored pictures), and what happens around an ending.

A job is created on Replicate at most once although the create is not idempotent: see
`submission.SubmitOnce`, which `submit` and the handling of remote jobs no row claims come from.

A status only moves forward, through one conditional UPDATE (`status_advance`), so duplicated,
late or out-of-order events (a `processing` webhook after `succeeded`) change nothing, whatever
the order in which workers apply them. Credits are settled in the same transaction as the
status change that ends the job, so they are captured or refunded exactly once.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string

from core import replicate_gateway
from core.exceptions import Conflict
from core.models import JobStatus, ReplicateJob
from core.replicate_gateway import RemoteJob, ReplicateServiceError
from core.webhooks import register_webhook_handler, webhook_task_send

from .files import remote_files_forget_on_commit
from .registry import lifecycle_add
from .status import STATUS_RANK, remote_time, status_advance
from .submission import SubmitOnce
from .tasks import remote_job_refresh_task, remote_job_submit_task

logger = logging.getLogger(__name__)


@functools.cache
def _credits_settle() -> Callable[..., object]:
    """`(reference=, spent=)`: capture (spent) or refund the reservation made under `reference`,
    nothing when there is none. The ledger lives in an app core does not import, so the
    settings name it (REMOTE_JOB_CREDITS_SETTLE)."""
    return import_string(settings.REMOTE_JOB_CREDITS_SETTLE)


class RemoteJobLifecycle(SubmitOnce):
    """Submit, follow, cancel and reconcile one kind of job; subclasses fill in the hooks."""

    # What Replicate calls the job ("training" or "prediction"); also the webhook kind (`?kind=`
    # in the URL we give Replicate) and the registry key.
    kind: ClassVar[str]
    model: ClassVar[type[ReplicateJob]]
    # How the job is called in messages to people: "training", "generation".
    noun: ClassVar[str]
    # The setting that says after how many quiet seconds reconciliation polls a job.
    reconcile_after_setting: ClassVar[str]

    # Inputs that are files, uploaded again by each attempt: left out when matching.
    file_inputs: ClassVar[frozenset[str]] = frozenset()
    # Whether a success's outputs are stored here (downloaded, decoded, scanned: CPU work).
    stores_outputs: ClassVar[bool] = False

    # --- What each kind of job provides -----------------------------------------------------

    def remote_input(self, job: ReplicateJob) -> dict[str, Any]:
        """The input the remote job is created with, its files already uploaded. Called before
        the intent is recorded; a DomainError fails the job."""
        raise NotImplementedError

    def remote_create(self, job: ReplicateJob, remote_input: dict[str, Any]) -> RemoteJob:
        """Create the job on Replicate with `remote_input` (and our webhook)."""
        raise NotImplementedError

    def remote_target_matches(self, job: ReplicateJob, remote: RemoteJob) -> bool:
        """Whether `remote` runs what `job` asks for (the version, model or destination)."""
        raise NotImplementedError

    def remote_get(self, replicate_id: str) -> RemoteJob:
        return replicate_gateway.job_get(kind=self.kind, job_id=replicate_id)

    def remote_cancel(self, replicate_id: str) -> RemoteJob:
        return replicate_gateway.job_cancel(kind=self.kind, job_id=replicate_id)

    def remote_created_between(self, since: datetime, until: datetime) -> list[RemoteJob]:
        return replicate_gateway.jobs_created_between(kind=self.kind, since=since, until=until)

    @staticmethod
    def plain_error_message(raw: str | None) -> str:
        """What a person is told when the job fails on Replicate: plain words, no traceback."""
        raise NotImplementedError

    def remote_details(self, job: ReplicateJob, remote: RemoteJob) -> dict[str, Any]:
        """Fields of the row that a remote state updates besides its status (logs, progress)."""
        return {}

    def outputs_take(self, job: ReplicateJob, remote: RemoteJob) -> str | None:
        """Before a success is recorded: take what it produced. A message fails the job instead.

        Raising ReplicateUnavailable leaves the job as it is, to be tried again.
        """
        return None

    def on_succeeded(self, job: ReplicateJob, remote: RemoteJob | None) -> None:
        """In the transaction that marks the job succeeded (its credits are captured)."""

    def on_ended_without_output(self, job: ReplicateJob) -> None:
        """In the transaction that marks the job failed or canceled (its credits refunded)."""

    def held_jobs(self) -> Q | None:
        """Queued jobs that wait for something other than Replicate (a person's decision):
        reconciliation does not submit them. None: no job of this kind is ever held."""
        return None

    def on_submit_gave_up(self, job: ReplicateJob) -> None:
        """After a job failed because Replicate did not answer its submission in time: tell
        its owner (the page says it too)."""

    # --- The kernel (submission: see SubmitOnce) ---------------------------------------------

    def fail(self, *, job: ReplicateJob, message: str) -> ReplicateJob:
        """The job could not be carried out: it fails with `message`, its credits come back."""
        self._transition(
            job, JobStatus.FAILED, error_message=message[:500], completed_at=timezone.now()
        )
        job.refresh_from_db()
        return job

    def apply_remote(self, *, remote: RemoteJob) -> ReplicateJob | None:
        """Apply what Replicate says of a job (a webhook's task or a poll) to our row."""
        job = self.model.objects.filter(replicate_id=remote.id).first()
        if job is None:
            self.orphan_settle(remote)
            return None
        target = remote.status if remote.status in STATUS_RANK else None
        if target is None or target == JobStatus.QUEUED:
            return job
        fields: dict[str, Any] = {"last_event_at": timezone.now()}
        if remote.metrics:
            fields["metrics"] = remote.metrics
        if remote.started_at:
            fields["started_at"] = remote_time(remote.started_at)
        fields.update(self.remote_details(job, remote))
        if target in ReplicateJob.TERMINAL:
            fields["completed_at"] = remote_time(remote.completed_at) or timezone.now()
        if target == JobStatus.FAILED:
            fields["error_message"] = self.plain_error_message(remote.error)[:500]
        if target == JobStatus.SUCCEEDED and job.status not in (
            JobStatus.FAILED,
            JobStatus.CANCELED,
        ):
            failure = self.outputs_take(job, remote)
            if failure:
                target = JobStatus.FAILED
                fields["error_message"] = failure[:500]
        if target == job.status and target not in ReplicateJob.TERMINAL:
            # The same status again (a logs event): only the details move.
            self.model.objects.filter(pk=job.pk, status=target).update(**fields)
        else:
            self._transition(job, target, remote=remote, **fields)
        job.refresh_from_db()
        return job

    def cancel(self, *, job: ReplicateJob) -> ReplicateJob:
        """Cancel a job that has not ended; a queued one stops before it reaches Replicate."""
        if job.is_terminal:
            raise Conflict(f"This {self.noun} has already ended.")
        if job.replicate_id:
            self.apply_remote(remote=self.remote_cancel(job.replicate_id))
            job.refresh_from_db()
            if job.is_terminal:
                return job
        now = timezone.now()
        self._transition(job, JobStatus.CANCELED, completed_at=now, last_event_at=now)
        job.refresh_from_db()
        if job.status == JobStatus.CANCELED and not job.replicate_id and job.submit_fingerprint:
            # Its create may have reached Replicate: stop what it made (best effort; what
            # appears later reports to the webhook as an orphan and is canceled then).
            with contextlib.suppress(ReplicateServiceError):
                for remote in self._candidates(job):
                    self.orphan_settle(remote)
        return job

    def refresh_options(self, remote: RemoteJob) -> dict[str, Any]:
        """Where the task applying a webhook's news runs. A success whose outputs are stored
        goes to the cpu queue (when tasks are routed by shape), so that a burst of finished
        generations holds up neither submissions nor the other webhooks on io."""
        if (
            self.stores_outputs
            and settings.TASK_QUEUES_BY_SHAPE
            and remote.status == JobStatus.SUCCEEDED
        ):
            return {"queue": settings.TASK_QUEUE_CPU}
        return {}

    def reported_is_enough(self, remote: RemoteJob) -> bool:
        """Whether a webhook's body carries all that applying its status needs: a success
        must name what it produced (its outputs, a training's version)."""
        if remote.status not in STATUS_RANK:
            return False
        return remote.status != JobStatus.SUCCEEDED or bool(remote.output)

    def apply_reported(self, *, remote: RemoteJob) -> ReplicateJob | None:
        """Apply a signed webhook's body: authoritative for the state it carries, so Replicate
        is read again only when the body is not enough or no row claims the job yet (a create
        in flight, or an orphan, which is settled on a fresh read). A body older than our row
        changes nothing: the status only moves forward."""
        job = self.model.objects.filter(replicate_id=remote.id).only("pk", "status").first()
        if job is None or not self.reported_is_enough(remote):
            return self.refresh(replicate_id=remote.id)
        if job.is_terminal:
            return job  # ended: a late or repeated event has nothing left to change
        return self.apply_remote(remote=remote)

    def refresh(self, *, replicate_id: str) -> ReplicateJob | None:
        """Re-read a job from Replicate (the authoritative state) and apply it."""
        return self.apply_remote(remote=self.remote_get(replicate_id))

    def reconcile(self, *, quiet_for: timedelta | None = None) -> int:
        """Poll running jobs that have had no news for a while (a webhook may have been lost),
        and submit again queued ones whose submission task was lost and ones stuck in
        `submitting` (which are looked up before anything is created). Returns how many."""
        if quiet_for is None:
            quiet_for = timedelta(seconds=getattr(settings, self.reconcile_after_setting))
        now = timezone.now()
        stale = self.model.objects.filter(last_event_at__lt=now - quiet_for)
        count = 0
        running = stale.filter(
            status__in=[JobStatus.SUBMITTING, JobStatus.STARTING, JobStatus.PROCESSING],
            replicate_id__isnull=False,
        )
        for replicate_id in running.values_list("replicate_id", flat=True):
            remote_job_refresh_task.delay(self.kind, replicate_id)
            count += 1
        # A submission stuck half-way (its worker died, its task was lost) is sent again: the
        # task looks its remote job up before it creates anything.
        # One whose task waits to try again (Replicate did not answer) is left to it, unless
        # that try is long overdue (its task was lost).
        retry_lost = Q(submit_retry_at__isnull=True) | Q(submit_retry_at__lt=now - quiet_for)
        stuck = self.model.objects.filter(
            retry_lost,
            status=JobStatus.SUBMITTING,
            replicate_id__isnull=True,
            last_event_at__lt=now - min(quiet_for, self.create_window()),
        )
        unsent = stale.filter(retry_lost, status=JobStatus.QUEUED, replicate_id__isnull=True)
        if (held := self.held_jobs()) is not None:
            unsent = unsent.exclude(held)
        for pk in [*stuck.values_list("pk", flat=True), *unsent.values_list("pk", flat=True)]:
            # Touched first, so the next round does not submit it again while this one runs.
            self.model.objects.filter(pk=pk).update(last_event_at=timezone.now())
            remote_job_submit_task.delay(self.kind, str(pk))
            count += 1
        return count

    @transaction.atomic
    def _transition(
        self, job: ReplicateJob, target: str, *, remote: RemoteJob | None = None, **fields
    ) -> bool:
        if not status_advance(self.model.objects, pk=job.pk, target=target, **fields):
            return False
        job.refresh_from_db()
        if target in ReplicateJob.TERMINAL and job.replicate_file_ids:
            remote_files_forget_on_commit(job=job)  # the remote job no longer needs its inputs
        if target == JobStatus.SUCCEEDED:
            _credits_settle()(reference=job.credit_reference, spent=True)
            self.on_succeeded(job, remote)
        elif target in (JobStatus.FAILED, JobStatus.CANCELED):
            _credits_settle()(reference=job.credit_reference, spent=False)
            self.on_ended_without_output(job)
        logger.info("%s %s is %s", self.noun, job.pk, target)
        return True


def lifecycle_register(lifecycle: RemoteJobLifecycle) -> None:
    """Make a kind of job known to the tasks, reconciliation and the webhook receiver."""
    lifecycle_add(lifecycle)
    register_webhook_handler(
        lifecycle.kind,
        # Sent at once, with the signed body: the receiver unrecords a delivery it cannot enqueue.
        lambda remote: webhook_task_send(
            remote_job_refresh_task,
            (lifecycle.kind, remote.id),
            # Its fields hold what JSON holds: a shallow copy is sent as asdict()'s deep one.
            {"reported": dict(vars(remote))},
            # Shown in logs instead of a repr of the whole body, which cost more than the send.
            kwargsrepr=f"{{'reported': {remote.status!r}}}",
            **lifecycle.refresh_options(remote),
        ),
    )
