"""Webhooks Replicate sends us: the signing secret, verification, the delivery id."""

from __future__ import annotations

import json

import replicate
from django.conf import settings
from django.core.cache import cache
from replicate.webhook import WebhookSigningSecret, WebhookValidationError

from .client import call, get_client
from .errors import WebhookRejected
from .values import RemoteJob

WEBHOOK_TOLERANCE_SECONDS = 5 * 60
_WEBHOOK_SECRET_CACHE_KEY = "replicate:webhook-secret"  # noqa: S105 (a cache key)


def webhook_secret_get(*, refresh: bool = False) -> str:
    """The `whsec_` secret Replicate signs webhooks with (setting, else fetched and cached)."""
    if settings.REPLICATE_WEBHOOK_SECRET:
        return settings.REPLICATE_WEBHOOK_SECRET
    if not refresh:
        cached = cache.get(_WEBHOOK_SECRET_CACHE_KEY)
        if cached:
            return cached
    client = get_client()
    secret = call(
        "webhooks.default.secret", lambda: client.webhooks.default.secret(), idempotent=True
    )
    cache.set(_WEBHOOK_SECRET_CACHE_KEY, secret.key, timeout=60 * 60)
    return secret.key


def webhook_verify(*, headers: dict[str, str], body: bytes) -> RemoteJob:
    """Check a webhook's signature and age; return the object it carries.

    Raises WebhookRejected for a missing or wrong signature, a timestamp more than five minutes
    off, or a body that is not a prediction or training. Replays of a valid delivery are caught
    by the caller, which records each `webhook-id` under a unique constraint.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookRejected("the body is not UTF-8") from error
    normalized = {key.lower(): value for key, value in headers.items()}
    secret = WebhookSigningSecret(key=webhook_secret_get())
    try:
        replicate.webhooks.validate(
            headers=normalized, body=text, secret=secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except WebhookValidationError as error:
        raise WebhookRejected(str(error) or type(error).__name__) from error
    try:
        payload = json.loads(text)
    except ValueError as error:
        raise WebhookRejected("the body is not JSON") from error
    return RemoteJob.from_payload(payload)


def webhook_id(headers: dict[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "webhook-id":
            return value
    raise WebhookRejected("missing webhook-id header")
