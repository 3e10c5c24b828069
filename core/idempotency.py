"""`Idempotency-Key` on the API requests that spend credits or start work (Stripe's rules).

A client that did not get an answer (a mobile network dropped it) sends the same request
again with the same key; it gets the first answer, and nothing is spent or started twice:

- the first request with a key claims it by inserting an `IdempotencyRecord` (unique per user
  and key), runs, and its answer (status, body, the headers that matter) is stored;
- a retry with the same key and the same request (route and body) gets that answer again,
  marked `Idempotent-Replayed: true`; the view does not run;
- the same key with another request is a 422 `idempotency_key_reused`;
- a retry while the first request still runs is a 409 `idempotency_key_in_use`;
- a 5xx answer is not kept (the key is freed: the client may try again), nor a 429 (nothing
  ran), nor a request that raised; a key is kept IDEMPOTENCY_KEY_TTL_HOURS (24 h), then may
  be used again;
- an empty key, or one longer than 255 characters, is a 400 `idempotency_key_invalid`.

The key is optional: a request without one runs as before. The routes are named in the
IDEMPOTENT_ROUTES setting (namespaced URL names); the middleware identifies the caller with
the view's own authentication classes (JWT or session) before the view runs, and lets the view
answer an anonymous or refused caller itself.

The stored record lives in the database, so it holds across processes and restarts. A record
left in progress by a process that died is taken over after IDEMPOTENCY_LOCK_SECONDS (longer
than any request may run), so a key cannot stay locked for a day.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from django.utils import timezone
from rest_framework.exceptions import APIException
from rest_framework.request import Request

from .models import IdempotencyRecord

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
# The answer's headers a retry gets back with the body (others are set again on the way out).
KEPT_HEADERS = (
    "Content-Type",
    "Content-Disposition",
    "Location",
    "Retry-After",
    "X-Generation-Id",
    "X-Image-Id",
)


def _error(status: int, code: str, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status)


def request_fingerprint(request: HttpRequest) -> str:
    """SHA-256 of what makes two requests the same: method, path and query, and the body.

    JSON is hashed in a canonical form (key order and spacing do not matter). A multipart body
    is hashed by its parsed fields and files, each file read in chunks from where Django put it
    (memory or a temporary file), so the boundary a client picks does not matter and a large
    upload never sits in memory whole.
    """
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.get_full_path()}\n".encode())
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"field {name}={len(value)}:".encode() + value.encode() + b"\n")
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"file {name} {upload.name} {upload.size}:".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
                digest.update(b"\n")
        return digest.hexdigest()
    body = request.body
    if body and "json" in content_type:
        with contextlib.suppress(ValueError):  # not JSON after all: the bytes as they are
            body = json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest.update(body)
    return digest.hexdigest()


def _caller(request: HttpRequest, view_class):
    """The signed-in user, by the view's own authentication classes; None if nobody is."""
    classes = getattr(view_class, "authentication_classes", None)
    if not classes:
        return None
    drf_request = Request(request, authenticators=[auth() for auth in classes])
    try:
        user = drf_request.user
    except APIException:
        return None  # the view answers this itself (401, or 403 for a missing CSRF token)
    return user if user is not None and user.is_authenticated else None


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code)
    for name, value in record.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _claim(*, user, key: str, route: str, fingerprint: str) -> IdempotencyRecord | HttpResponse:
    """Insert the record that claims `key`, or the answer that another holder of it means."""
    now = timezone.now()
    ttl = timedelta(hours=settings.IDEMPOTENCY_KEY_TTL_HOURS)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return IdempotencyRecord.objects.create(
                    user=user,
                    key=key,
                    route=route,
                    fingerprint=fingerprint,
                    created_at=now,
                    expires_at=now + ttl,
                )
        except IntegrityError:
            pass
        existing = IdempotencyRecord.objects.filter(user=user, key=key).first()
        if existing is None:
            continue  # freed meanwhile (a 5xx): claim it again
        if existing.expires_at <= now:
            # Expired: forgotten, as if the prune task had run. The conditional delete lets
            # one of concurrent requests take it; the others find the new claim.
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
            continue
        if existing.route != route or existing.fingerprint != fingerprint:
            return _error(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was used with another request: use a new key for a new "
                "request.",
            )
        if existing.is_complete:
            return _replay(existing)
        stale = now - timedelta(seconds=settings.IDEMPOTENCY_LOCK_SECONDS)
        if existing.created_at <= stale:
            # The process that held it died mid-request: take it over (one of concurrent
            # retries wins the conditional update).
            taken = IdempotencyRecord.objects.filter(
                pk=existing.pk, status_code__isnull=True, created_at=existing.created_at
            ).update(created_at=now, expires_at=now + ttl)
            if taken:
                existing.created_at, existing.expires_at = now, now + ttl
                return existing
            continue
        response = _error(
            409,
            "idempotency_key_in_use",
            "A request with this Idempotency-Key is still running: retry in a moment.",
        )
        response["Retry-After"] = "1"
        return response
    return _error(
        409,
        "idempotency_key_in_use",
        "A request with this Idempotency-Key is still running: retry in a moment.",
    )


def _store(record: IdempotencyRecord, response: HttpResponse) -> None:
    keep = (
        response.status_code < 500
        and response.status_code != 429  # throttled: nothing ran, the retry should run
        and not response.streaming
        and len(response.content) <= settings.IDEMPOTENCY_MAX_STORED_BYTES
    )
    if not keep:
        # Not kept: the key is freed so the client may retry (Stripe keeps no 5xx either).
        IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()
        return
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code,
        headers={name: response[name] for name in KEPT_HEADERS if response.has_header(name)},
        body=bytes(response.content),
        completed_at=timezone.now(),
    )


def idempotency_record_prune(*, now=None) -> int:
    """Delete the records past their expiry; returns how many."""
    deleted, _ = IdempotencyRecord.objects.filter(expires_at__lte=now or timezone.now()).delete()
    return deleted


class IdempotencyMiddleware:
    """Applies `Idempotency-Key` to the POSTs of IDEMPOTENT_ROUTES (see the module's doc)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        if request.method != "POST" or HEADER not in request.headers:
            return self.get_response(request)
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        if match.view_name not in settings.IDEMPOTENT_ROUTES:
            return self.get_response(request)
        key = request.headers.get(HEADER, "").strip()
        if not key or len(key) > MAX_KEY_LENGTH:
            return _error(
                400,
                "idempotency_key_invalid",
                f"The Idempotency-Key header must be 1 to {MAX_KEY_LENGTH} characters.",
            )
        user = _caller(request, getattr(match.func, "cls", None))
        if user is None:
            return self.get_response(request)  # the view refuses it
        try:
            fingerprint = request_fingerprint(request)
        except Exception:  # a body Django refuses (too large, malformed): the view says so
            logger.info("idempotency: body not readable on %s; key ignored", request.path)
            return self.get_response(request)
        claimed = _claim(user=user, key=key, route=match.view_name, fingerprint=fingerprint)
        if isinstance(claimed, HttpResponse):
            return claimed
        try:
            response = self.get_response(request)
        except BaseException:
            IdempotencyRecord.objects.filter(pk=claimed.pk, status_code__isnull=True).delete()
            raise
        _store(claimed, response)
        return response
