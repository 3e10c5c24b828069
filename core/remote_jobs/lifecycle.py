"""The life of a job on Replicate, written once for every kind of job.

A training run and a generation are both a `core.models.ReplicateJob`: queued here, created on
Replicate by a task, moved by signed webhooks and by polling, ended with their credits settled.
`RemoteJobLifecycle` is the only code that changes a job's status. Each kind of job subclasses
it with only what is its own: how the remote job is created, read and canceled, what a remote
state adds to the row (logs, progress, a seed), what a success produces (a model version,
stored pictures), and what happens around an ending.

A status only moves forward, through one conditional UPDATE (`status_advance`), so duplicated,
late or out-of-order events (a `processing` webhook after `succeeded`) change nothing, whatever
the order in which workers apply them. Credits are settled in the same transaction as the
status change that ends the job, so they are captured or refunded exactly once.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.module_loading import import_string

from core import replicate_gateway
from core.exceptions import Conflict, DomainError
from core.models import JobStatus, ReplicateJob
from core.replicate_gateway import RemoteJob, ReplicateUnavailable
from core.webhooks import register_webhook_handler

from .registry import lifecycle_add
from .tasks import remote_job_refresh_task, remote_job_submit_task

logger = logging.getLogger(__name__)

STATUS_RANK = {
    JobStatus.QUEUED: 0,
    JobStatus.STARTING: 1,
    JobStatus.PROCESSING: 2,
    JobStatus.SUCCEEDED: 3,
    JobStatus.FAILED: 3,
    JobStatus.CANCELED: 3,
}


@functools.cache
def _credits_settle() -> Callable[..., object]:
    """`(reference=, spent=)`: capture (spent) or refund the reservation made under `reference`,
    nothing when there is none. The ledger lives in an app core does not import, so the
    settings name it (REMOTE_JOB_CREDITS_SETTLE)."""
    return import_string(settings.REMOTE_JOB_CREDITS_SETTLE)


def remote_time(value: str | None) -> datetime | None:
    """A timestamp as Replicate writes it (RFC 3339), or None."""
    return parse_datetime(value) if value else None


def status_advance(queryset: QuerySet, *, pk, target: str, **fields) -> bool:
    """Set `target` (and `fields`) on row `pk` only if that moves it forward; True if it did."""
    allowed_from = [status for status, rank in STATUS_RANK.items() if rank < STATUS_RANK[target]]
    return bool(queryset.filter(pk=pk, status__in=allowed_from).update(status=target, **fields))


class RemoteJobLifecycle:
    """Submit, follow, cancel and reconcile one kind of job; subclasses fill in the hooks."""

    # What Replicate calls the job ("training" or "prediction"); also the webhook kind (`?kind=`
    # in the URL we give Replicate) and the registry key.
    kind: ClassVar[str]
    model: ClassVar[type[ReplicateJob]]
    # How the job is called in messages to people: "training", "generation".
    noun: ClassVar[str]
    # The setting that says after how many quiet seconds reconciliation polls a job.
    reconcile_after_setting: ClassVar[str]

    # --- What each kind of job provides -----------------------------------------------------

    def remote_start(self, job: ReplicateJob) -> RemoteJob:
        """Create the job on Replicate (with our webhook). A DomainError fails the job."""
        raise NotImplementedError

    def remote_get(self, replicate_id: str) -> RemoteJob:
        return replicate_gateway.job_get(kind=self.kind, job_id=replicate_id)

    def remote_cancel(self, replicate_id: str) -> RemoteJob:
        return replicate_gateway.job_cancel(kind=self.kind, job_id=replicate_id)

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

    # --- The kernel -------------------------------------------------------------------------

    def submit(self, *, job_id) -> ReplicateJob | None:
        """Create the remote job. Safe to run twice: only a queued job without a Replicate id
        is sent. ReplicateUnavailable propagates, for the task to try again later."""
        job = self.model.objects.filter(pk=job_id).first()
        if job is None or job.status != JobStatus.QUEUED or job.replicate_id:
            return job
        try:
            remote = self.remote_start(job)
        except ReplicateUnavailable:
            raise
        except DomainError as error:
            return self.fail(job=job, message=error.message)
        now = timezone.now()
        updated = self.model.objects.filter(
            pk=job.pk, status=JobStatus.QUEUED, replicate_id__isnull=True
        ).update(replicate_id=remote.id, submitted_at=now, last_event_at=now)
        if not updated:
            # Canceled while we were sending it: stop the remote job too.
            self.remote_cancel(remote.id)
            job.refresh_from_db()
            return job
        return self.apply_remote(remote=remote) or job

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
            logger.warning("no %s for replicate job %s", self.noun, remote.id)
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
        return job

    def refresh(self, *, replicate_id: str) -> ReplicateJob | None:
        """Re-read a job from Replicate (the authoritative state) and apply it."""
        return self.apply_remote(remote=self.remote_get(replicate_id))

    def reconcile(self, *, quiet_for: timedelta | None = None) -> int:
        """Poll running jobs that have had no news for a while (a webhook may have been lost),
        and submit again queued ones whose submission task was lost. Returns how many."""
        if quiet_for is None:
            quiet_for = timedelta(seconds=getattr(settings, self.reconcile_after_setting))
        stale = self.model.objects.filter(last_event_at__lt=timezone.now() - quiet_for)
        count = 0
        running = stale.filter(
            status__in=[JobStatus.STARTING, JobStatus.PROCESSING], replicate_id__isnull=False
        )
        for replicate_id in running.values_list("replicate_id", flat=True):
            remote_job_refresh_task.delay(self.kind, replicate_id)
            count += 1
        unsent = stale.filter(status=JobStatus.QUEUED, replicate_id__isnull=True)
        for pk in unsent.values_list("pk", flat=True):
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
        lambda replicate_id: remote_job_refresh_task.delay_on_commit(lifecycle.kind, replicate_id),
    )
