"""What the likeness app keeps: the face identity a model was trained on, so that every
picture it makes can be scored for how much it looks like its owner.

Biometric data (a 128-number face vector): kept only while the model exists, deleted with it
and with the account; computed only from a dataset whose owner agreed to face processing.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class ModelIdentity(models.Model):
    """The centre of the main identity of the photos a model was last trained on."""

    lora_model = models.OneToOneField(
        "trainings.LoraModel", on_delete=models.CASCADE, primary_key=True, related_name="identity"
    )
    vector = models.JSONField(help_text="128 numbers (likeness.faces).")
    photo_count = models.PositiveSmallIntegerField(
        default=0, help_text="How many of the training photos show this person."
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "model identities"

    def __str__(self):
        return f"Identity of {self.lora_model_id}"


class IdentityCheck(models.Model):
    """The consent selfie of a model's first training and what became of it.

    A selfie is taken (`selfie_taken`), then a training request compares it with the dataset's
    main identity: close enough, it is `matched_automatically` and the training starts; not
    (another face, no face, no identity because the dataset has no face consent), the training
    is held (`waiting_for_review`) until a moderator approves or rejects it. The selfie is
    deleted as soon as a decision is made, the record staying with the model; a selfie no
    training used is deleted with its check after SELFIE_KEEP_HOURS.
    """

    class Outcome(models.TextChoices):
        SELFIE_TAKEN = "selfie_taken", "Selfie taken"
        WAITING = "waiting_for_review", "Waiting for a moderator"
        MATCHED = "matched_automatically", "Matched automatically"
        APPROVED = "approved", "Approved by a moderator"
        REJECTED = "rejected", "Rejected by a moderator"

    PASSED = (Outcome.MATCHED, Outcome.APPROVED)
    DECIDED = (Outcome.MATCHED, Outcome.APPROVED, Outcome.REJECTED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lora_model = models.ForeignKey(
        "trainings.LoraModel", on_delete=models.CASCADE, related_name="identity_checks"
    )
    training_run = models.ForeignKey(
        "trainings.TrainingRun",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="identity_checks",
    )
    outcome = models.CharField(
        max_length=24, choices=Outcome.choices, default=Outcome.SELFIE_TAKEN, db_index=True
    )
    # Private, under the owner's folder; emptied (and the file deleted) at the decision.
    selfie = models.FileField(upload_to="selfies/", blank=True)
    # Whether a face was found in the selfie. Its face vector is never stored: it is computed
    # when the training is requested, only for a dataset with face consent, and compared.
    selfie_has_face = models.BooleanField(null=True, blank=True)
    # When the selfie's camera says it was taken (EXIF, read before re-encoding drops it); none
    # from a camera in the web page. Too old, the selfie does not match automatically.
    selfie_captured_at = models.DateTimeField(null=True, blank=True)
    distance = models.FloatField(
        null=True, blank=True, help_text="From the selfie's face to the dataset's main identity."
    )
    reason = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Identity check of {self.lora_model_id}: {self.outcome}"

    @property
    def passed(self) -> bool:
        return self.outcome in self.PASSED

    @property
    def decided_by_kind(self) -> str | None:
        """ "automatic", "moderator", or None before a decision: what the owner is told (never
        which moderator)."""
        if self.outcome == self.Outcome.MATCHED:
            return "automatic"
        if self.outcome in (self.Outcome.APPROVED, self.Outcome.REJECTED):
            return "moderator"
        return None
