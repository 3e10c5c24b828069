"""Creating a job on Replicate once, although Replicate's create is not idempotent.

The create takes no client token, and a worker can die, or lose the create's answer, between
the moment Replicate made the job and the moment its id is stored. So:

1. The intent is committed first: one worker claims the job (queued → submitting, with a token
   of its attempt), prepares the input (uploads included), records when and what it sends (the
   input's digest, `matching.input_fingerprint`), and only then calls the create. Only the
   worker holding the token records the answer.
2. A job found in `submitting` (the task ran again, reconciliation sent it again, the create's
   answer was lost) is looked up on Replicate before anything is created: the recent remote
   jobs that no row claims and that match its target, input and creation time are adopted.
   Nothing found: it is created again only when nothing had been sent, or once the create
   window (twice the API timeout) has passed, when the lost create can no longer appear.
3. A remote job that no row claims and no submission in flight may claim (a duplicate, a stray
   with our webhook) is canceled, and logged, once.
"""

from __future__ import annotations

import logging
import time
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from core.exceptions import DomainError
from core.models import JobStatus, WebhookDelivery
from core.replicate_gateway import (
    RemoteJob,
    ReplicateServiceError,
    ReplicateUnavailable,
    ReplicateUnconfirmed,
)
from core.services import webhook_delivery_record

from .files import remote_files_forget_on_commit
from .matching import CLOCK_MARGIN, created_within, input_fingerprint
from .status import remote_time, status_advance

if TYPE_CHECKING:
    from core.models import ReplicateJob

logger = logging.getLogger(__name__)

# Marks a remote job no row claims once it has been canceled (or found ended) and logged, in the
# table of webhook ids, whose unique constraint makes "once" hold across workers.
_ORPHAN_MARK = "orphan:{kind}:{remote_id}"


class SubmissionUnconfirmed(ReplicateUnavailable):
    """A create may have been sent and its job is not found yet: look again later."""


class SubmitOnce:
    """The submission part of `RemoteJobLifecycle` (which provides the hooks it calls)."""

    @staticmethod
    def create_window() -> timedelta:
        """How long after a create was sent its job may still appear on Replicate: until then,
        not finding it does not prove it was never created."""
        return timedelta(seconds=2 * settings.REPLICATE_TIMEOUT_SECONDS)

    def submit(self, *, job_id) -> ReplicateJob | None:
        """Create the remote job, once. Safe to run again, by any worker, at any point.

        A queued job is first claimed (queued → submitting, with a token of this attempt) and
        the digest of its input is committed, then the create is sent: from then on a remote
        job may exist. A job found in `submitting` (the task ran again after a worker died, or
        reconciliation sent it again, or the create's answer was lost) is looked up on Replicate
        and adopted; it is created again only when nothing was sent, or when what was sent
        is not found after the create window. ReplicateUnavailable propagates, for the task to
        try again later.
        """
        job = self.model.objects.filter(pk=job_id).first()
        if job is None or job.replicate_id:
            return job
        if job.status == JobStatus.SUBMITTING and job.submit_fingerprint:
            adopted = self._adopt_created(job)
            if adopted is not None:
                return adopted
            if timezone.now() < job.submitted_at + self.create_window():
                raise SubmissionUnconfirmed(
                    f"The {self.noun} may have been sent; its answer is awaited."
                )
        elif job.status not in (JobStatus.QUEUED, JobStatus.SUBMITTING):
            return job
        token = self._claim(job)
        if token is None:
            job.refresh_from_db()
            return job
        try:
            remote_input = self.remote_input(job)
        except ReplicateUnavailable:
            raise  # nothing was created: the next attempt creates without looking
        except DomainError as error:
            return self.fail(job=job, message=error.message)
        now = timezone.now()
        intent = self.model.objects.filter(
            pk=job.pk, status=JobStatus.SUBMITTING, submit_token=token, replicate_id__isnull=True
        ).update(
            submitted_at=now,
            submit_fingerprint=input_fingerprint(remote_input, exclude=self.file_inputs),
            last_event_at=now,
        )
        if not intent:  # canceled meanwhile, or another worker took the submission over
            job.refresh_from_db()
            if job.is_terminal:  # what this attempt uploaded is not needed
                remote_files_forget_on_commit(job=job)
            return job
        try:
            remote = self.remote_create(job, remote_input)
        except ReplicateUnconfirmed:
            # No answer: it may exist all the same. Look now; otherwise the task looks again.
            job.refresh_from_db()
            adopted = self._adopt_created(job)
            if adopted is not None:
                return adopted
            raise
        except ReplicateUnavailable:
            # Refused before it did anything (429, connection refused): nothing to look for.
            self.model.objects.filter(
                pk=job.pk, status=JobStatus.SUBMITTING, submit_token=token
            ).update(submit_fingerprint="")
            raise
        except DomainError as error:
            return self.fail(job=job, message=error.message)
        self._pause_for_fault_tests(job, remote)
        return self._created_store(job, remote, token)

    def submit_postpone(self, *, job_id, reason: str, wait: float) -> float | None:
        """Replicate did not answer this submission: record it (the job's page says that we
        keep trying, and until when), and return the seconds to wait before the next try, at
        most until the job's deadline. None when the deadline has passed or the job is no
        longer waiting to be sent: then nothing more is tried."""
        job = self.model.objects.filter(
            pk=job_id,
            status__in=[JobStatus.QUEUED, JobStatus.SUBMITTING],
            replicate_id__isnull=True,
        ).first()
        now = timezone.now()
        if job is None or now >= job.submit_deadline:
            return None
        wait = max(0.5, min(wait, (job.submit_deadline - now).total_seconds()))
        retry_at = now + timedelta(seconds=wait)
        # One write: the first failure's time is kept (the page counts from it), the retry's
        # time moves on.
        self.model.objects.filter(pk=job.pk).update(
            submit_failing_since=Coalesce("submit_failing_since", Value(now)),
            submit_retry_at=retry_at,
        )
        logger.warning(
            "%s %s: Replicate did not answer (%s); trying again in %.1f s, until %s",
            self.noun,
            job.pk,
            reason,
            wait,
            job.submit_deadline.isoformat(timespec="seconds"),
        )
        return wait

    def submit_give_up(self, *, job_id, message: str, notify: bool = False) -> ReplicateJob | None:
        """The submission cannot go on: adopt what was created after all, else fail the job
        with `message` (its credits come back) and, with `notify`, tell its owner. A remote job
        that still appears later is an orphan, canceled when it reports."""
        job = self.model.objects.filter(
            pk=job_id,
            status__in=[JobStatus.QUEUED, JobStatus.SUBMITTING],
            replicate_id__isnull=True,
        ).first()
        if job is None:
            return None
        if job.status == JobStatus.SUBMITTING and job.submit_fingerprint:
            try:
                adopted = self._adopt_created(job)
            except ReplicateServiceError as error:
                logger.warning("%s %s: last look-up failed: %s", self.noun, job.pk, error)
                adopted = None
            if adopted is not None:
                return adopted
        job = self.fail(job=job, message=message)
        if notify and job.status == JobStatus.FAILED:
            self.on_submit_gave_up(job)
        return job

    def remote_matches(self, job: ReplicateJob, remote: RemoteJob) -> bool:
        """Whether `remote` is what `job`'s last create sent: its target, its input, and a
        creation time within that create's window."""
        return (
            bool(job.submit_fingerprint)
            and job.submitted_at is not None
            and created_within(
                remote.created_at, intent=job.submitted_at, window=self.create_window()
            )
            and input_fingerprint(remote.input, exclude=self.file_inputs) == job.submit_fingerprint
            and self.remote_target_matches(job, remote)
        )

    def _claim(self, job: ReplicateJob) -> uuid.UUID | None:
        """Make this worker the one that creates the job; None if another one is."""
        token = uuid.uuid4()
        now = timezone.now()
        fields = {
            "submit_token": token,
            "submitted_at": now,
            "submit_fingerprint": "",
            "last_event_at": now,
        }
        unsent = self.model.objects.filter(replicate_id__isnull=True)
        if job.status == JobStatus.QUEUED:
            claimed = status_advance(unsent, pk=job.pk, target=JobStatus.SUBMITTING, **fields)
        else:
            claimed = bool(
                unsent.filter(
                    pk=job.pk, status=JobStatus.SUBMITTING, submit_token=job.submit_token
                ).update(**fields)
            )
        return token if claimed else None

    def _created_store(self, job: ReplicateJob, remote: RemoteJob, token) -> ReplicateJob:
        now = timezone.now()
        try:
            with transaction.atomic():
                stored = self.model.objects.filter(
                    pk=job.pk,
                    status=JobStatus.SUBMITTING,
                    submit_token=token,
                    replicate_id__isnull=True,
                ).update(replicate_id=remote.id, last_event_at=now)
        except IntegrityError:  # another row adopted this remote job meanwhile
            stored = 0
        if stored:
            return self.apply_remote(remote=remote) or job
        # Canceled while we were sending it, or adopted: by this job (another worker found what
        # we made, or something identical), or by another job with the same input.
        job.refresh_from_db()
        if job.replicate_id == remote.id:
            return self.apply_remote(remote=remote) or job
        self.orphan_settle(remote)
        if job.status == JobStatus.SUBMITTING and not job.replicate_id:
            # Ours went to a job with the same input: take what that job's create made.
            adopted = self._adopt_created(job)
            if adopted is None:
                raise SubmissionUnconfirmed(f"The {self.noun} is being sent; looking again later.")
            return adopted
        return job

    def _candidates(self, job: ReplicateJob) -> list[RemoteJob]:
        """Remote jobs no row claims that `job`'s last create may have made, likeliest first."""
        since = job.submitted_at - CLOCK_MARGIN
        until = job.submitted_at + self.create_window() + CLOCK_MARGIN
        remotes = [
            remote
            for remote in self.remote_created_between(since, until)
            if self.remote_matches(job, remote)
        ]
        claimed = set(
            self.model.objects.filter(
                replicate_id__in=[remote.id for remote in remotes]
            ).values_list("replicate_id", flat=True)
        )
        unclaimed = [remote for remote in remotes if remote.id not in claimed]

        def nearest_after_the_intent(remote: RemoteJob) -> tuple[bool, float]:
            # Our create was sent right after the intent; an identical job made just before it
            # (another job's with the same input) comes after.
            gap = (remote_time(remote.created_at) - job.submitted_at).total_seconds()
            return gap < 0, abs(gap)

        return sorted(unclaimed, key=nearest_after_the_intent)

    def _adopt_created(self, job: ReplicateJob) -> ReplicateJob | None:
        """Find what `job`'s create made on Replicate and make it the job's; None if nothing.

        Any other match is a duplicate, canceled unless another job may still claim it."""
        candidates = [
            remote
            for remote in self._candidates(job)
            if remote.status != JobStatus.CANCELED  # canceled (by us, as an orphan): not reusable
        ]
        for index, remote in enumerate(candidates):
            try:
                with transaction.atomic():
                    adopted = self.model.objects.filter(
                        pk=job.pk, status=JobStatus.SUBMITTING, replicate_id__isnull=True
                    ).update(
                        replicate_id=remote.id, submit_token=None, last_event_at=timezone.now()
                    )
            except IntegrityError:  # claimed by another row a moment ago
                continue
            if not adopted:
                job.refresh_from_db()
                if job.replicate_id:
                    return job
                if job.is_terminal:  # canceled meanwhile: what its create made goes too
                    for orphan in candidates:
                        self.orphan_settle(orphan)
                return None
            logger.warning(
                "%s %s: adopted replicate job %s that its lost create had made",
                self.noun,
                job.pk,
                remote.id,
            )
            for duplicate in candidates[index + 1 :]:
                self.orphan_settle(duplicate)
            return self.apply_remote(remote=remote) or job
        return None

    def _claimable(self, remote: RemoteJob) -> bool:
        """Whether a job still being submitted may claim `remote` (its create is in flight)."""
        waiting = self.model.objects.filter(
            status=JobStatus.SUBMITTING, replicate_id__isnull=True
        ).exclude(submit_fingerprint="")
        fingerprint = input_fingerprint(remote.input, exclude=self.file_inputs)
        return any(
            self.remote_matches(job, remote)
            for job in waiting.filter(submit_fingerprint=fingerprint)
        )

    def orphan_settle(self, remote: RemoteJob) -> None:
        """A remote job of ours that no row claims: cancel it, once, and say so, unless a job
        whose create is in flight may still claim it."""
        if self.model.objects.filter(replicate_id=remote.id).exists():
            return
        if self._claimable(remote):
            logger.info(
                "replicate %s %s: not claimed yet (a create is in flight)", self.kind, remote.id
            )
            return
        # Checked again after the in-flight look: a create that was recorded in between moved
        # its row from "submitting without an id" to "with this id" in one UPDATE.
        if self.model.objects.filter(replicate_id=remote.id).exists():
            return
        mark = _ORPHAN_MARK.format(kind=self.kind, remote_id=remote.id)
        if not webhook_delivery_record(
            webhook_id=mark, remote_id=remote.id, remote_status=remote.status
        ):
            return  # already settled
        if remote.is_terminal:
            logger.warning(
                "replicate %s %s is no %s of ours; it had already ended (%s)",
                self.kind,
                remote.id,
                self.noun,
                remote.status,
            )
            return
        try:
            self.remote_cancel(remote.id)
        except ReplicateServiceError:
            WebhookDelivery.objects.filter(webhook_id=mark).delete()  # to be tried again
            raise
        logger.warning(
            "replicate %s %s is no %s of ours (a duplicate or a stray): canceled",
            self.kind,
            remote.id,
            self.noun,
        )

    def _pause_for_fault_tests(self, job: ReplicateJob, remote: RemoteJob) -> None:
        seconds = settings.REMOTE_JOBS_TEST_PAUSE_AFTER_CREATE_SECONDS
        if seconds > 0:
            logger.warning(
                "%s %s: created %s; pausing %.1f s before recording it (fault tests only)",
                self.noun,
                job.pk,
                remote.id,
                seconds,
            )
            time.sleep(seconds)
