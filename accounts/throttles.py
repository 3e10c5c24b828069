"""DRF throttles whose rates are read at request time, and the rate-limit headers they set.

DRF's own classes copy DEFAULT_THROTTLE_RATES when they are imported, so a changed setting
would not apply; these read `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` on every request.
A throttled request answers 429 with Retry-After.

Every answer of a throttled view says where its caller stands, after the IETF draft's
`RateLimit-Limit` (requests allowed in the window), `RateLimit-Remaining` (left in it) and
`RateLimit-Reset` (seconds until the oldest counted request leaves the window). With several
throttles on one request (per user and per scope), the headers are the most restrictive one's:
the fewest requests left, then the longest wait (`RateLimitHeadersMiddleware`).

Requests are counted in the default cache. With Redis, a Redis that does not answer makes each
process count in its own memory (`core.cache.FailOpenRedisCache`), so an outage neither fails
requests nor lifts the limits, which then apply per process.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from rest_framework import throttling
from rest_framework.settings import api_settings


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset_seconds: int


class _RatesFromSettings:
    @property
    def THROTTLE_RATES(self):
        return api_settings.DEFAULT_THROTTLE_RATES

    def allow_request(self, request, view):
        if getattr(request._request, "conditional_probe", False):
            return True  # core.conditional's internal read: part of a request already counted
        allowed = super().allow_request(request, view)
        if getattr(self, "key", None) is not None and getattr(self, "num_requests", None):
            self._record(request, allowed)
        return allowed

    def _record(self, request, allowed: bool) -> None:
        history = self.history
        reset = self.duration - (self.now - history[-1]) if history else self.duration
        state = RateLimitState(
            limit=self.num_requests,
            remaining=max(0, self.num_requests - len(history)) if allowed else 0,
            reset_seconds=max(0, math.ceil(reset)),
        )
        django_request = request._request
        states = getattr(django_request, "rate_limits", None)
        if states is None:
            states = django_request.rate_limits = []
        states.append(state)


class AnonThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    pass


class UserThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    pass


class ScopedThrottle(_RatesFromSettings, throttling.ScopedRateThrottle):
    """Applies to views with a `throttle_scope` (`auth`, `generation`, ...)."""


def most_restrictive(states: list[RateLimitState]) -> RateLimitState | None:
    return min(states, key=lambda s: (s.remaining, -s.reset_seconds), default=None)


class RateLimitHeadersMiddleware:
    """Puts the RateLimit-* headers of the request's most restrictive throttle on its answer."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        state = most_restrictive(getattr(request, "rate_limits", None) or [])
        if state is not None:
            response["RateLimit-Limit"] = str(state.limit)
            response["RateLimit-Remaining"] = str(state.remaining)
            response["RateLimit-Reset"] = str(state.reset_seconds)
        return response
