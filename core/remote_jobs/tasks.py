"""The tasks that call Replicate for a job, and the one retry policy they share.

A call that finds Replicate busy or down (ReplicateUnavailable) is retried by Celery with
exponential back-off and full jitter, up to REPLICATE_TASK_MAX_RETRIES times; the gateway's own
short retries happen inside each attempt. When a submission gives up, the job is failed with a
reason a person can read and its credits are refunded, unless the look-up that comes first finds
that its create went through after all. A refresh that gives up only logs:
reconciliation polls the job again later.
"""

from __future__ import annotations

import logging

from celery import shared_task
from celery.contrib.django.task import DjangoTask
from django.conf import settings

from core.exceptions import DomainError
from core.replicate_gateway import ReplicateUnavailable

from .registry import lifecycle_get, lifecycle_list

logger = logging.getLogger(__name__)

SUBMIT_GAVE_UP = (
    "The image service could not be reached to start this {noun}. "
    "Your credits were refunded; please try again later."
)
SUBMIT_BROKE = (
    "Something went wrong on our side while starting this {noun}. "
    "Your credits were refunded; please try again."
)


class ReplicateCallTask(DjangoTask):
    """Acknowledged after it ran, so a worker lost mid-task leaves it to be run again."""

    acks_late = True
    reject_on_worker_lost = True
    autoretry_for = (ReplicateUnavailable,)
    retry_backoff = settings.REPLICATE_TASK_RETRY_BACKOFF_SECONDS
    retry_backoff_max = settings.REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS
    retry_jitter = True
    max_retries = settings.REPLICATE_TASK_MAX_RETRIES


class _SubmitTask(ReplicateCallTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        kind, job_id = args
        lifecycle = lifecycle_get(kind)
        if isinstance(exc, ReplicateUnavailable):
            message = SUBMIT_GAVE_UP.format(noun=lifecycle.noun)
        elif isinstance(exc, DomainError):
            message = exc.message
        else:
            logger.error("submission of %s %s failed: %r", kind, job_id, exc)
            message = SUBMIT_BROKE.format(noun=lifecycle.noun)
        # A job in `submitting` may have been created after all: it is looked up first.
        lifecycle.submit_give_up(job_id=job_id, message=message)


class _RefreshTask(ReplicateCallTask):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        logger.warning("refresh of %s %s gave up (reconciliation polls it later): %s", *args, exc)


@shared_task(base=_SubmitTask, bind=True)
def remote_job_submit_task(self, kind: str, job_id: str) -> None:
    lifecycle_get(kind).submit(job_id=job_id)


@shared_task(base=_RefreshTask, bind=True)
def remote_job_refresh_task(self, kind: str, replicate_id: str) -> None:
    """Re-read a job and apply it (the webhook receiver and reconciliation enqueue this)."""
    lifecycle_get(kind).refresh(replicate_id=replicate_id)


@shared_task(acks_late=True)
def remote_jobs_reconcile_task() -> int:
    """Beat: poll every kind of job for the ones whose news was lost."""
    return sum(lifecycle.reconcile() for lifecycle in lifecycle_list())
