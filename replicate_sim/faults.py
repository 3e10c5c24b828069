"""Request-level fault injection for `/v1`: throttling (429), server errors and slowness.

Countdowns (`throttle_next`, `error_next`) hit the very next requests, which makes tests exact;
the periodic forms (`throttle_every`, `error_every`) count authenticated `/v1` requests from the
last change of that setting.
"""

from __future__ import annotations

import threading
import time

from .errors import ApiError
from .settings import RuntimeConfig

_SERVER_ERRORS = {
    500: "Internal server error",
    503: "Service temporarily unavailable. Please retry.",
    504: "Gateway timeout while waiting for an upstream service",
}


class RequestFaults:
    def __init__(self, config: RuntimeConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._count = 0
        config.on_change(self._on_change)

    def _on_change(self, names: set[str]) -> None:
        if names & {"throttle_every", "error_every"}:
            with self._lock:
                self._count = 0

    def check(self) -> None:
        """Delay and/or raise the configured fault for this request."""
        delay = self.config.slow_seconds
        if delay > 0:
            time.sleep(delay)
        with self._lock:
            self._count += 1
            count = self._count
        throttle_every = self.config.throttle_every
        if self.config.take_one("throttle_next") or (
            throttle_every and count % throttle_every == 0
        ):
            seconds = self.config.retry_after
            unit = "second" if seconds == 1 else "seconds"
            raise ApiError(
                429,
                f"Request was throttled. Expected available in {seconds} {unit}.",
                headers={
                    "Retry-After": str(seconds),
                    "ratelimit-remaining": "0",
                    "ratelimit-reset": str(seconds),
                },
            )
        error_every = self.config.error_every
        if self.config.take_one("error_next") or (error_every and count % error_every == 0):
            status = self.config.error_status
            raise ApiError(status, _SERVER_ERRORS[status])
