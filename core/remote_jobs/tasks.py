"""The tasks that call Replicate for a job, and the one retry policy they share.

A call that finds Replicate busy or down (ReplicateUnavailable) is tried again after an
exponential back-off with full jitter (a random wait up to 2, 4, 8… seconds, at most
REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS); the gateway's own short retries happen inside each
attempt.

- A submission is bounded by time: it keeps trying until the job's `submit_deadline`
  (REPLICATE_SUBMIT_WINDOW_SECONDS after it was queued), and the job's page says so meanwhile.
  Then it is failed with a reason a person can read, its credits are refunded and its owner
  told, unless the look-up that comes first finds that its create went through after all.
- A refresh gives up after REPLICATE_TASK_MAX_RETRIES tries and only logs: reconciliation polls
  the job again later.
"""

from __future__ import annotations

import logging
import random

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings

from core.exceptions import DomainError
from core.replicate_gateway import RemoteJob, ReplicateUnavailable

from .registry import lifecycle_get, lifecycle_list

logger = logging.getLogger(__name__)

SUBMIT_GAVE_UP = (
    "Replicate, the service that runs our models, did not answer for too long, so this "
    "{noun} could not be started. Your credits were refunded; please try again later."
)
SUBMIT_BROKE = (
    "Something went wrong on our side while starting this {noun}. "
    "Your credits were refunded; please try again."
)


def backoff_wait(attempt: int) -> float:
    """Seconds before try `attempt + 1`: full jitter, a random wait up to base·2^attempt (capped),
    so that tasks failed together by an outage do not all come back together."""
    ceiling = min(
        settings.REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS,
        settings.REPLICATE_TASK_RETRY_BACKOFF_SECONDS * 2**attempt,
    )
    return random.uniform(0, ceiling)


class ReplicateCallTask(DjangoTask):
    """Acknowledged after it ran, so a worker lost mid-task leaves it to be run again."""

    acks_late = True
    reject_on_worker_lost = True


class _SubmitTask(ReplicateCallTask):
    # Bounded by the job's deadline, not by a count (see remote_job_submit_task).
    max_retries = None

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        kind, job_id = args
        lifecycle = lifecycle_get(kind)
        if isinstance(exc, DomainError):
            message = exc.message
        else:
            logger.error("submission of %s %s failed: %r", kind, job_id, exc)
            message = SUBMIT_BROKE.format(noun=lifecycle.noun)
        # A job in `submitting` may have been created after all: it is looked up first.
        lifecycle.submit_give_up(job_id=job_id, message=message)


class _RefreshTask(ReplicateCallTask):
    autoretry_for = (ReplicateUnavailable,)
    retry_backoff = settings.REPLICATE_TASK_RETRY_BACKOFF_SECONDS
    retry_backoff_max = settings.REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS
    retry_jitter = True
    max_retries = settings.REPLICATE_TASK_MAX_RETRIES

    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.warning("refresh of %s %s gave up (reconciliation polls it later): %s", *args, exc)


@shared_task(base=_SubmitTask, bind=True)
def remote_job_submit_task(self, kind: str, job_id: str) -> None:
    lifecycle = lifecycle_get(kind)
    try:
        lifecycle.submit(job_id=job_id)
    except ReplicateUnavailable as error:
        wait = lifecycle.submit_postpone(
            job_id=job_id, reason=str(error), wait=backoff_wait(self.request.retries)
        )
        if wait is None:  # past the deadline (or no longer waiting to be sent)
            lifecycle.submit_give_up(
                job_id=job_id, message=SUBMIT_GAVE_UP.format(noun=lifecycle.noun), notify=True
            )
            return
        if self.request.is_eager:
            # Run inline (unit tests), a retry would run at once, in a loop until the deadline:
            # the job is left to reconciliation, which sends it again once its retry is due.
            return
        raise self.retry(exc=error, countdown=wait) from error


@shared_task(base=_RefreshTask, bind=True)
def remote_job_refresh_task(
    self, kind: str, replicate_id: str, reported: dict | None = None
) -> None:
    """Bring a job up to date: apply what a signed webhook `reported` (its body, as fields of a
    RemoteJob), or re-read the job when there is no such body or it is not enough
    (reconciliation enqueues it without one)."""
    lifecycle = lifecycle_get(kind)
    if reported is None:
        lifecycle.refresh(replicate_id=replicate_id)
        return
    lifecycle.apply_reported(remote=RemoteJob(**{**reported, "id": replicate_id}))


@shared_task(acks_late=True)
def remote_jobs_reconcile_task() -> int:
    """Beat: poll every kind of job for the ones whose news was lost."""
    return sum(lifecycle.reconcile() for lifecycle in lifecycle_list())
