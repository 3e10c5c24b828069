"""The one module that talks to Replicate (or to the bundled simulator, which speaks the same API).

Nothing else in the project imports `replicate`.
"""

from __future__ import annotations

import httpx
import replicate
from django.conf import settings


def _api_token() -> str:
    if settings.REPLICATE_USES_SIMULATOR:
        return settings.REPLICATE_SIMULATOR_TOKEN
    return settings.REPLICATE_API_TOKEN


def get_client(*, timeout: float | None = None) -> replicate.Client:
    seconds = timeout or settings.REPLICATE_TIMEOUT_SECONDS
    return replicate.Client(
        api_token=_api_token(),
        base_url=settings.REPLICATE_BASE_URL,
        timeout=httpx.Timeout(seconds, connect=min(seconds, 5.0)),
    )


def backend_check(*, timeout: float = 3.0) -> None:
    """Raise if the Replicate backend cannot be reached with our token."""
    get_client(timeout=timeout).accounts.current()
