"""Events of a user's account (a training ended, a picture was held…), the HTTPS endpoints that
receive them signed (Standard Webhooks), and the log of each delivery."""

from __future__ import annotations

import base64
import secrets
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class EventType(models.TextChoices):
    TRAINING_SUCCEEDED = "training.succeeded", "A training finished"
    TRAINING_FAILED = "training.failed", "A training failed"
    GENERATION_SUCCEEDED = "generation.succeeded", "A generation's pictures are ready"
    GENERATION_FAILED = "generation.failed", "A generation failed"
    IMAGE_HELD = "image.held", "A picture is held for review"
    IMAGE_REJECTED = "image.rejected", "A moderator rejected a picture"
    EXPORT_READY = "export.ready", "A data export is ready"


# Sent to one endpoint by its owner ("send test event"); never subscribed to, never streamed.
PING = "ping"


def event_public_id() -> str:
    return f"evt_{secrets.token_hex(12)}"


class Event(models.Model):
    """Something that happened to a user's object; the stream and the deliveries send it."""

    # The stream's order and its Last-Event-ID resume follow this (monotonic) key.
    seq = models.BigAutoField(primary_key=True)
    id = models.CharField(max_length=40, unique=True, default=event_public_id, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="events"
    )
    type = models.CharField(max_length=40)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "seq"], name="event_owner_seq")]

    def __str__(self) -> str:
        return f"{self.id} {self.type}"

    def payload(self) -> dict:
        """What is sent: the same body on the stream and to every endpoint, every attempt."""
        return {
            "id": self.id,
            "type": self.type,
            "created_at": self.created_at.isoformat().replace("+00:00", "Z"),
            "data": self.data,
        }


def endpoint_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class EventEndpoint(models.Model):
    """An HTTPS URL of a user's that receives the event types it subscribed to."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_endpoints"
    )
    url = models.URLField(max_length=500)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list)
    # Signing secrets (Standard Webhooks' whsec_…): shown once; after a rotation the previous one
    # signs too until `previous_secret_expires_at`, so a receiver can switch without a gap.
    secret = models.CharField(max_length=100, default=endpoint_secret)
    previous_secret = models.CharField(max_length=100, blank=True)
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    is_enabled = models.BooleanField(default=True)
    disabled_reason = models.CharField(max_length=300, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Since the first failed attempt after the last success (None while the endpoint answers).
    failing_since = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [models.Index(fields=["owner", "-created_at"], name="endpoint_owner_created")]

    def __str__(self) -> str:
        return self.url

    def signing_secrets(self) -> list[str]:
        current = [self.secret]
        if self.previous_secret and (
            self.previous_secret_expires_at and self.previous_secret_expires_at > timezone.now()
        ):
            current.append(self.previous_secret)
        return current


class EventDelivery(models.Model):
    """One event sent to one endpoint, tried until it is answered 2xx or its retries run out."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Delivered"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(EventEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The owner's, so lists are scoped without a join through the endpoint.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_deliveries"
    )
    replay_of = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replays"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When the next attempt is due (None once it ended); an attempt under way pushes it ahead by
    # a lease, so that two workers never send the same attempt.
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "event deliveries"
        indexes = [
            models.Index(fields=["endpoint", "-created_at"], name="delivery_endpoint_created"),
            models.Index(fields=["status", "next_attempt_at"], name="delivery_status_due"),
        ]

    def __str__(self) -> str:
        return f"{self.event_id} → {self.endpoint_id} ({self.status})"
