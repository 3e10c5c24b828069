"""Webhooks Replicate sends us: the signing secret, verification, the delivery id."""

from __future__ import annotations

import base64
import binascii
import json
import re

import replicate
from django.conf import settings
from django.core.cache import cache
from replicate.webhook import WebhookSigningSecret, WebhookValidationError

from .client import call, get_client
from .errors import ReplicateConfigurationError, WebhookRejected
from .values import RemoteJob

WEBHOOK_TOLERANCE_SECONDS = 5 * 60
_WEBHOOK_SECRET_CACHE_KEY = "replicate:webhook-secret"  # noqa: S105 (a cache key)
# What a well-formed delivery carries: seconds since the epoch in ASCII digits (12 of them last
# until the year 33658), ids that fit WebhookDelivery.webhook_id, a few `v1,<base64>` entries.
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_MAX_WEBHOOK_ID_CHARS = 200
_MAX_SIGNATURE_HEADER_CHARS = 2048
_V1_SIGNATURE = re.compile(r"v1,[A-Za-z0-9+/]{43}=")


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


def _header_values(headers: dict[str, str]) -> tuple[str, str, str]:
    """The id, timestamp and signature headers, checked for shape before anything uses them.

    The `replicate` verifier trusts their shape: `int()` on the timestamp raises ValueError,
    `base64.b64decode` on a signature binascii.Error, and it accepts a signature of any version
    (Standard Webhooks defines only `v1`). Refusing malformed values here keeps every bad header
    a WebhookRejected (a 4xx), never an exception the receiver did not expect (a 500).
    """
    normalized: dict[str, str] = {}
    for key, value in headers.items():
        if not isinstance(key, str) or not isinstance(value, str):
            raise WebhookRejected("a header that is not text")
        normalized[key.lower()] = value
    webhook_id = normalized.get("webhook-id", "")
    timestamp = normalized.get("webhook-timestamp", "")
    signature = normalized.get("webhook-signature", "")
    if not webhook_id:
        raise WebhookRejected("missing webhook-id header")
    if len(webhook_id) > _MAX_WEBHOOK_ID_CHARS or not webhook_id.isprintable():
        raise WebhookRejected("malformed webhook-id header")
    if not timestamp:
        raise WebhookRejected("missing webhook-timestamp header")
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookRejected("malformed webhook-timestamp header")
    if not signature:
        raise WebhookRejected("missing webhook-signature header")
    if len(signature) > _MAX_SIGNATURE_HEADER_CHARS:
        raise WebhookRejected("webhook-signature header too long")
    # Entries of other versions (or malformed ones) are skipped, as the scheme asks: a sender
    # may list several signatures while it rotates keys. At least one v1 entry must remain.
    usable = [entry for entry in signature.split() if _V1_SIGNATURE.fullmatch(entry)]
    if not usable:
        raise WebhookRejected("no v1 signature in the webhook-signature header")
    return webhook_id, timestamp, " ".join(usable)


def _signing_secret() -> WebhookSigningSecret:
    key = webhook_secret_get()
    prefix, _, encoded = key.partition("_")
    try:
        if prefix != "whsec" or not encoded:
            raise ValueError("no whsec_ prefix")
        base64.b64decode(encoded)  # as the `replicate` verifier decodes it
    except (ValueError, binascii.Error) as error:
        # Our configuration, not the sender's fault: never logged (it is the secret), and a
        # service error, so the receiver asks Replicate to deliver again later.
        raise ReplicateConfigurationError(
            "The webhook signing secret is not a whsec_ key. An administrator has to fix this."
        ) from error
    return WebhookSigningSecret(key=key)


def webhook_verify(*, headers: dict[str, str], body: bytes) -> RemoteJob:
    """Check a webhook's signature and age; return the object it carries.

    Raises WebhookRejected for a missing, malformed or wrong signature, a timestamp more than
    five minutes off, or a body that is not a prediction or training: whatever the headers or
    the body hold, nothing else escapes for the sender to provoke (a misconfigured secret is a
    ReplicateConfigurationError). Replays of a valid delivery are caught by the caller, which
    records each `webhook-id` under a unique constraint.
    """
    if not isinstance(body, bytes | bytearray):
        raise WebhookRejected("the body is not bytes")
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookRejected("the body is not UTF-8") from error
    webhook_id, timestamp, signature = _header_values(headers)
    secret = _signing_secret()
    try:
        replicate.webhooks.validate(
            headers={
                "webhook-id": webhook_id,
                "webhook-timestamp": timestamp,
                "webhook-signature": signature,
            },
            body=text,
            secret=secret,
            tolerance=WEBHOOK_TOLERANCE_SECONDS,
        )
    except WebhookValidationError as error:
        raise WebhookRejected(str(error) or type(error).__name__) from error
    except (ValueError, TypeError, OverflowError) as error:
        # Anything the checks above did not foresee (ValueError covers binascii.Error and
        # UnicodeError): the message may quote a header, so only the type is kept.
        raise WebhookRejected(f"malformed webhook headers ({type(error).__name__})") from error
    try:
        payload = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise WebhookRejected("the body is not JSON") from error
    try:
        return RemoteJob.from_payload(payload)
    except WebhookRejected:
        raise
    except (AttributeError, TypeError, ValueError) as error:
        raise WebhookRejected("the body is not a prediction or training object") from error


def webhook_id(headers: dict[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "webhook-id":
            return value
    raise WebhookRejected("missing webhook-id header")
