import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone


class WebhookDelivery(models.Model):
    """Each Replicate webhook message we accepted, by its `webhook-id`.

    The unique constraint is what makes a replayed or retried delivery a no-op.
    """

    webhook_id = models.CharField(max_length=200, unique=True)
    remote_id = models.CharField(max_length=100, db_index=True)
    remote_status = models.CharField(max_length=20)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "webhook deliveries"

    def __str__(self):
        return f"{self.webhook_id} ({self.remote_id} {self.remote_status})"


class JobStatus(models.TextChoices):
    """Where a job on Replicate stands. Each kind of job may relabel these, never add to them."""

    QUEUED = "queued", "Queued"
    # Claimed by one worker, which is creating it on Replicate (or may have): from here a remote
    # job may exist, so nothing creates another before looking for it (core.remote_jobs).
    SUBMITTING = "submitting", "Sending"
    STARTING = "starting", "Starting"
    PROCESSING = "processing", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    CANCELED = "canceled", "Canceled"


def job_status_choices(**labels: str) -> type[models.TextChoices]:
    """A kind of job's own `Status`: the same statuses, some labelled its way
    (`job_status_choices(processing="Training")`)."""
    return models.TextChoices(
        "Status",
        [
            (status.name, (status.value, labels.get(status.value, status.label)))
            for status in JobStatus
        ],
    )


class ReplicateJob(models.Model):
    """A piece of work sent to Replicate and followed to its end: a training run, a generation.

    `status` moves only forward (queued → submitting → starting → processing → succeeded /
    failed / canceled), through `core.remote_jobs.status_advance`;
    `core.remote_jobs.RemoteJobLifecycle` is the one place that changes it. The credit
    reservation of a job is the ledger entry reserved under `credit_reference`.

    `submitted_at`, `submit_token` and `submit_fingerprint` record the intent to create the
    remote job, committed before the create call: the time of the last create attempt, the
    claim of the worker making it, and a digest of the input it sends (empty while nothing may
    have been sent), which is what a lost answer is looked up by.
    """

    TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)
    ACTIVE = (JobStatus.QUEUED, JobStatus.SUBMITTING, JobStatus.STARTING, JobStatus.PROCESSING)
    # Prefix of the credit reservation's reference, e.g. "generation" → "generation:<id>".
    CREDIT_REFERENCE_PREFIX = ""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    replicate_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    error_message = models.CharField(max_length=500, blank=True)
    metrics = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submit_token = models.UUIDField(null=True, blank=True, editable=False)
    submit_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    last_event_at = models.DateTimeField(default=timezone.now)
    # While Replicate does not answer the submission: since when, and when it is tried next
    # (reconciliation leaves it alone until then). It is given up at `submit_deadline`.
    submit_failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    submit_retry_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Ids of the input files uploaded to Replicate's Files API for this job (a training's zip,
    # a generation's init image and mask; each submission attempt uploads them again). They
    # may hold the person's photos, so they are deleted when the job ends and again when the
    # account is erased (core.remote_jobs.files).
    replicate_file_ids = models.JSONField(default=list, blank=True, editable=False)

    class Meta:
        abstract = True
        ordering = ["-created_at"]
        # Each kind of job has an `owner`: lists are the owner's, newest first.
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="%(class)s_owner_created"),
            models.Index(fields=["status", "last_event_at"], name="%(class)s_status_event"),
        ]

    @property
    def is_terminal(self) -> bool:
        return self.status in self.TERMINAL

    @property
    def submit_deadline(self):
        """Until when a submission that Replicate does not answer is tried again."""
        return self.created_at + timedelta(seconds=settings.REPLICATE_SUBMIT_WINDOW_SECONDS)

    @property
    def submit_retrying_until(self):
        """While Replicate does not answer this job's submission: when we stop trying (then
        the job fails and its credits come back). None otherwise."""
        waiting = self.status in (JobStatus.QUEUED, JobStatus.SUBMITTING) and not self.replicate_id
        return self.submit_deadline if waiting and self.submit_failing_since else None

    @property
    def credit_reference(self) -> str:
        return f"{self.CREDIT_REFERENCE_PREFIX}:{self.pk}"


class IdempotencyRecord(models.Model):
    """A request sent with an `Idempotency-Key` (core.idempotency), and the answer it got.

    Inserting the row claims the key: the unique (user, key) constraint lets exactly one of
    concurrent retries run the view; the others see the row, in progress or with its answer.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", editable=False
    )
    key = models.CharField(max_length=255)
    route = models.CharField(max_length=200, help_text="The URL name the key was used on.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the method, path, body.")
    # Empty while the first request runs; then the answer that every retry gets.
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    body = models.BinaryField(default=b"", blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key_unique"),
        ]

    def __str__(self):
        return f"{self.key} ({self.route}, {self.status_code or 'running'})"

    @property
    def is_complete(self) -> bool:
        return self.status_code is not None
