"""The `replicate` client we use (token, base URL, timeouts) and the one retry loop."""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx
import replicate
from django.conf import settings
from replicate.exceptions import ReplicateError

from .errors import ReplicateUnconfirmed, translate

logger = logging.getLogger(__name__)

T = TypeVar("T")
_MAX_ATTEMPTS = 4
_MAX_RETRY_WAIT_SECONDS = 30.0


# Statuses the `replicate` client retries by itself on GETs (up to ten times, Retry-After
# unbounded): they are raised at once instead, for the gateway's one retry loop (`call`).
_RETRIED_BY_THE_CLIENT = frozenset({429, 503, 504})


class _GatewayTransport(httpx.HTTPTransport):
    """Bounds every request by the client's own timeout, also those the `replicate` client
    sends with none (prediction creates and file uploads pass `timeout=None`, which httpx reads
    as "wait forever") or with a longer one; and leaves retrying to `call`."""

    def __init__(self, *, timeout: httpx.Timeout, **kwargs):
        super().__init__(**kwargs)
        self._timeout = timeout.as_dict()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        asked = request.extensions.get("timeout") or {}
        request.extensions["timeout"] = {
            phase: bound if asked.get(phase) is None else min(asked[phase], bound)
            for phase, bound in self._timeout.items()
        }
        response = super().handle_request(request)
        if response.status_code in _RETRIED_BY_THE_CLIENT:
            response.read()
            error = ReplicateError.from_response(response)
            error.response = response  # for its Retry-After
            raise error
        return response


def api_token() -> str:
    if settings.REPLICATE_USES_SIMULATOR:
        return settings.REPLICATE_SIMULATOR_TOKEN
    return settings.REPLICATE_API_TOKEN


# One client per process and per (token, base URL, timeout): its connection pool and TLS
# context are built once and reused by every call, where building them took most of a worker's
# time. httpx clients are thread-safe; a forked child (gunicorn, Celery's prefork pool) starts
# with none, since sockets shared with the parent would interleave.
_clients: dict[tuple, replicate.Client] = {}
_download_clients: dict[float, httpx.Client] = {}
_clients_lock = threading.Lock()
_MAX_CACHED_CLIENTS = 16  # settings change only in tests (a simulator on a new port)


def _forget_clients() -> None:
    global _clients_lock
    _clients.clear()
    _download_clients.clear()
    _clients_lock = threading.Lock()  # a lock held by another thread at fork stays held


os.register_at_fork(after_in_child=_forget_clients)


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(seconds, 5.0))


def _cached(cache: dict, key, build: Callable[[], Any]):
    """cache[key], built once under the lock by `build` when missing."""
    client = cache.get(key)
    if client is not None:
        return client
    with _clients_lock:
        client = cache.get(key)
        if client is None:
            client = build()
            if len(cache) >= _MAX_CACHED_CLIENTS:
                cache.clear()  # dropped, not closed: another thread may be using one
            cache[key] = client
    return client


def get_client(*, timeout: float | None = None) -> replicate.Client:
    """The process's client whose every request, creates included, waits at most `timeout`
    seconds for each step (connect, send, answer); REPLICATE_TIMEOUT_SECONDS unless told
    otherwise (uploads use REPLICATE_UPLOAD_TIMEOUT_SECONDS)."""
    seconds = timeout or settings.REPLICATE_TIMEOUT_SECONDS
    key = (api_token(), settings.REPLICATE_BASE_URL, seconds)

    def build() -> replicate.Client:
        bound = _timeout(seconds)
        client = replicate.Client(
            api_token=key[0],
            base_url=key[1],
            timeout=bound,
            transport=_GatewayTransport(timeout=bound),
        )
        client._client  # noqa: B018 (built here, under the lock, not lazily by two threads)
        return client

    return _cached(_clients, key, build)


def download_client() -> httpx.Client:
    """The process's plain HTTP client for output files (they are not API calls)."""
    seconds = settings.REPLICATE_TIMEOUT_SECONDS
    return _cached(
        _download_clients,
        seconds,
        lambda: httpx.Client(timeout=_timeout(seconds), follow_redirects=True),
    )


def _retry_after_seconds(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    if value and value.strip().isdigit():
        return float(value)
    return None


def _did_nothing(error: Exception) -> bool:
    """The request certainly had no effect: refused before it was read, or never sent."""
    if isinstance(error, ReplicateError):
        return error.status == 429
    return isinstance(error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


def _may_have_taken_effect(error: Exception) -> bool:
    """No answer, or a server error: a create may have been carried out all the same."""
    if isinstance(error, ReplicateError):
        return error.status is not None and error.status >= 500
    return isinstance(error, httpx.TransportError) and not _did_nothing(error)


def _is_retryable(error: Exception, *, idempotent: bool) -> bool:
    if _did_nothing(error):
        return True
    if isinstance(error, ReplicateError):
        return idempotent and error.status is not None and error.status >= 500
    return idempotent and isinstance(error, httpx.TransportError)


def call(operation: str, func: Callable[[], T], *, idempotent: bool) -> T:
    """Run one API call with our retry policy; raise the project's own error at the end.

    A call that is not idempotent and may have taken effect although it failed (no answer in
    time, a broken connection, a 5xx) raises ReplicateUnconfirmed, so that its caller looks
    for what it created before trying again.
    """
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            return func()
        except (ReplicateError, httpx.HTTPError) as error:
            if attempt == _MAX_ATTEMPTS or not _is_retryable(error, idempotent=idempotent):
                translated = translate(error)
                if not idempotent and _may_have_taken_effect(error):
                    translated = ReplicateUnconfirmed(
                        translated.message, status=translated.status, detail=translated.detail
                    )
                logger.warning(
                    "replicate %s failed after %d attempt(s): %s", operation, attempt, error
                )
                raise translated from error
            wait = _retry_after_seconds(error)
            if wait is None:
                wait = settings.REPLICATE_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
                wait += random.uniform(0, wait / 2)
            wait = min(wait, _MAX_RETRY_WAIT_SECONDS)
            logger.info(
                "replicate %s: %s, retrying in %.1fs (attempt %d)",
                operation,
                type(error).__name__,
                wait,
                attempt,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
