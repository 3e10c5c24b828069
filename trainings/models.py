import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from core.models import ReplicateJob, job_status_choices


class Dataset(models.Model):
    """A person's set of photos, normalised for training."""

    class TargetSize(models.IntegerChoices):
        LARGE = 1024, "1024 px (recommended)"
        SMALL = 512, "512 px (faster)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="datasets"
    )
    name = models.CharField(max_length=100)
    target_size = models.PositiveSmallIntegerField(
        choices=TargetSize.choices, default=TargetSize.LARGE
    )
    caption_with_trigger_word = models.BooleanField(
        default=True,
        help_text="Start every caption with the model's trigger word when training.",
    )
    # Retention (trainings.services.retention): the photos are deleted TRAINING_PHOTOS_KEEP_DAYS
    # after the last training that used them, unless the owner keeps them.
    keep_photos = models.BooleanField(default=False)
    photos_deleted_at = models.DateTimeField(null=True, blank=True)
    # Explicit consent to computing face vectors (biometric data) from these photos, for the
    # identity checks (likeness.faces). Without it they are skipped and the consent selfie is
    # reviewed by a moderator.
    face_consent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self):
        return self.name


class DatasetImage(models.Model):
    """One uploaded photo: the original until it is processed, then its training copy."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be processed"
        READY = "ready", "Ready"
        REJECTED = "rejected", "Rejected"

    class ShotType(models.TextChoices):
        CLOSE_UP = "close_up", "Close-up"
        HALF_BODY = "half_body", "Half-body"
        FULL_BODY = "full_body", "Full-body"
        UNKNOWN = "unknown", "Unknown"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="images")
    original_name = models.CharField(max_length=255)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    rejection_code = models.CharField(max_length=40, blank=True)
    rejection_message = models.CharField(max_length=300, blank=True)
    # The raw upload, kept only until it is processed (it may carry GPS data).
    upload = models.FileField(upload_to="uploads/", blank=True)
    training_file = models.FileField(upload_to="datasets/", blank=True)
    thumbnail = models.FileField(upload_to="datasets/", blank=True)
    caption = models.TextField(blank=True, max_length=1000)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)
    original_width = models.PositiveIntegerField(null=True, blank=True)
    original_height = models.PositiveIntegerField(null=True, blank=True)
    original_format = models.CharField(max_length=10, blank=True)
    size_bytes = models.PositiveBigIntegerField(default=0)
    face_count = models.PositiveSmallIntegerField(null=True, blank=True)
    face_confirmed = models.BooleanField(
        default=False, help_text="The owner says they are in it although no face was detected."
    )
    blur_score = models.FloatField(null=True, blank=True)
    perceptual_hash = models.CharField(max_length=16, blank=True)
    shot_type = models.CharField(max_length=10, choices=ShotType.choices, default=ShotType.UNKNOWN)
    measurements = models.JSONField(default=dict, blank=True)
    # The faces dlib found, largest first: [{"box": [l, t, r, b], "vector": [128 numbers]}]
    # (likeness.faces.Face), computed in the worker only with the dataset's face consent, and
    # deleted with the photo.
    faces = models.JSONField(default=list, blank=True)
    faces_checked_at = models.DateTimeField(null=True, blank=True)
    # On a photo with several faces, the index (in `faces`) of the one the owner confirmed is them.
    subject_face = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.original_name


class LoraModel(models.Model):
    """A person's private FLUX LoRA: a Replicate model that trainings push versions to."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Not trained yet"
        TRAINING = "training", "Training"
        READY = "ready", "Ready"
        FAILED = "failed", "Training failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="lora_models"
    )
    name = models.CharField(max_length=80)
    trigger_word = models.CharField(max_length=40)
    replicate_owner = models.CharField(max_length=100, blank=True)
    replicate_name = models.CharField(max_length=100, blank=True, unique=True, null=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    current_version = models.ForeignKey(
        "LoraVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(Lower("trigger_word"), name="unique_trigger_word_ci"),
        ]

    def __str__(self):
        return self.name

    @property
    def replicate_full_name(self) -> str:
        return f"{self.replicate_owner}/{self.replicate_name}" if self.replicate_name else ""

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY and self.current_version_id is not None


class LoraVersion(models.Model):
    """A version of a LoRA model, produced by one successful training run."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lora_model = models.ForeignKey(LoraModel, on_delete=models.CASCADE, related_name="versions")
    replicate_version_id = models.CharField(max_length=64, unique=True)
    training_run = models.OneToOneField(
        "TrainingRun", null=True, blank=True, on_delete=models.SET_NULL, related_name="version"
    )
    weights_url = models.URLField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.lora_model} @ {self.replicate_version_id[:8]}"


class TrainingRun(ReplicateJob):
    """One run of the LoRA trainer on Replicate, from submission to its end."""

    Status = job_status_choices(processing="Training")
    CREDIT_REFERENCE_PREFIX = "training_run"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="training_runs"
    )
    dataset = models.ForeignKey(
        Dataset, on_delete=models.SET_NULL, null=True, blank=True, related_name="training_runs"
    )
    lora_model = models.ForeignKey(
        LoraModel, on_delete=models.CASCADE, related_name="training_runs"
    )
    retry_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    parameters = models.JSONField(default=dict)
    image_count = models.PositiveSmallIntegerField(default=0)
    logs = models.TextField(blank=True)
    current_step = models.PositiveIntegerField(default=0)
    total_steps = models.PositiveIntegerField(default=0)
    cost_estimate = models.PositiveIntegerField(default=0, help_text="Credits reserved.")
    cost_actual = models.PositiveIntegerField(null=True, blank=True)

    def __str__(self):
        return f"{self.lora_model} run {self.id}"

    @property
    def submit_deadline(self):
        """A run held for a moderator (likeness.IdentityCheck) was queued, for the submission's
        time window, when the moderator approved it, not when it was asked for."""
        deadline = super().submit_deadline
        approved_at = (
            self.identity_checks.filter(outcome="approved", decided_at__isnull=False)
            .values_list("decided_at", flat=True)
            .first()
        )
        if approved_at is None:
            return deadline
        return max(
            deadline, approved_at + timedelta(seconds=settings.REPLICATE_SUBMIT_WINDOW_SECONDS)
        )

    @property
    def progress(self) -> float:
        if self.status == self.Status.SUCCEEDED:
            return 1.0
        if not self.total_steps:
            return 0.0
        return min(self.current_step / self.total_steps, 1.0)
