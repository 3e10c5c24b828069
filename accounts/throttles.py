"""DRF throttles whose rates are read at request time.

DRF's own classes copy DEFAULT_THROTTLE_RATES when they are imported, so a changed setting
would not apply; these read `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]` on every request.
A throttled request answers 429 with Retry-After.

Requests are counted in the default cache. With Redis, a Redis that does not answer makes each
process count in its own memory (`core.cache.FailOpenRedisCache`), so an outage neither fails
requests nor lifts the limits, which then apply per process.
"""

from rest_framework import throttling
from rest_framework.settings import api_settings


class _RatesFromSettings:
    @property
    def THROTTLE_RATES(self):
        return api_settings.DEFAULT_THROTTLE_RATES


class AnonThrottle(_RatesFromSettings, throttling.AnonRateThrottle):
    pass


class UserThrottle(_RatesFromSettings, throttling.UserRateThrottle):
    pass


class ScopedThrottle(_RatesFromSettings, throttling.ScopedRateThrottle):
    """Applies to views with a `throttle_scope` (`auth`, `generation`, ...)."""
