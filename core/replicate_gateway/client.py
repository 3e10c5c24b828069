"""The `replicate` client we use (token, base URL, timeouts) and the one retry loop."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import replicate
from django.conf import settings
from replicate.exceptions import ReplicateError

from .errors import translate

logger = logging.getLogger(__name__)

T = TypeVar("T")
_MAX_ATTEMPTS = 4
_MAX_RETRY_WAIT_SECONDS = 30.0


class _DefaultTimeoutTransport(httpx.HTTPTransport):
    """Gives a timeout to the requests the client sends with none (file uploads)."""

    def __init__(self, *, timeout: float, **kwargs):
        super().__init__(**kwargs)
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        if not timeouts or any(value is None for value in timeouts.values()):
            request.extensions["timeout"] = {
                phase: (value if value is not None else self._timeout)
                for phase, value in {
                    "connect": timeouts.get("connect"),
                    "read": timeouts.get("read"),
                    "write": timeouts.get("write"),
                    "pool": timeouts.get("pool"),
                }.items()
            }
        return super().handle_request(request)


def api_token() -> str:
    if settings.REPLICATE_USES_SIMULATOR:
        return settings.REPLICATE_SIMULATOR_TOKEN
    return settings.REPLICATE_API_TOKEN


def get_client(*, timeout: float | None = None) -> replicate.Client:
    seconds = timeout or settings.REPLICATE_TIMEOUT_SECONDS
    return replicate.Client(
        api_token=api_token(),
        base_url=settings.REPLICATE_BASE_URL,
        timeout=httpx.Timeout(seconds, connect=min(seconds, 5.0)),
        transport=_DefaultTimeoutTransport(timeout=max(seconds, 120.0)),
    )


def _retry_after_seconds(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    if value and value.strip().isdigit():
        return float(value)
    return None


def _is_retryable(error: Exception, *, idempotent: bool) -> bool:
    if isinstance(error, ReplicateError):
        if error.status == 429:
            return True  # the request was refused before it did anything
        return idempotent and error.status is not None and error.status >= 500
    if isinstance(error, httpx.ConnectError):
        return True  # nothing reached the server
    return idempotent and isinstance(error, httpx.TransportError)


def call(operation: str, func: Callable[[], T], *, idempotent: bool) -> T:
    """Run one API call with our retry policy; raise the project's own error at the end."""
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            return func()
        except (ReplicateError, httpx.HTTPError) as error:
            if attempt == _MAX_ATTEMPTS or not _is_retryable(error, idempotent=idempotent):
                translated = translate(error)
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
