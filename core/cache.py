"""The default cache with Redis: Django's Redis cache, which a Redis outage cannot take down.

API throttles, sign-in lockouts, allauth's rate limits and a few cached values (the webhook
signing secret, the deep health report) live in the cache, so with Django's own backend every
API request would answer 500 while Redis is down. `FailOpenRedisCache` serves each call that
Redis cannot answer from this process's memory instead (a LocMemCache), and logs one warning:

- reads keep working, and limits still apply, per process (counts are not shared between
  processes, nor kept when Redis is back: a limit may let a little more through meanwhile);
- after a failure, Redis is not tried again for `RETRY_SECONDS` (an OPTIONS key, default 5),
  so an outage does not add a connection attempt to every call; then the next call tries it;
- the socket timeouts default to 1 s, so a Redis that does not answer at all costs at most
  that, once per `RETRY_SECONDS` and process.

Errors other than Redis's (a missing key's `incr`, a value that cannot be pickled) are raised
as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from urllib.parse import urlsplit

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = 5.0
# A continuing outage is logged again at most this often, per process.
WARN_EVERY_SECONDS = 60.0
FALLBACK_MAX_ENTRIES = 10_000


def _identity_key(key, key_prefix, version):
    return key


class _Outage:
    """Whether one Redis location answers, shared by every thread of the process."""

    def __init__(self, where: str):
        self.where = where
        self.lock = threading.Lock()
        self.since: float | None = None  # monotonic time of the first failure, None when up
        self.retry_at = 0.0  # Redis is not tried before this monotonic time
        self.warned_at: float | None = None

    def skipping(self) -> bool:
        return self.since is not None and time.monotonic() < self.retry_at

    def failed(self, error: Exception, retry_seconds: float) -> None:
        now = time.monotonic()
        with self.lock:
            if self.since is None:
                self.since = now
            self.retry_at = now + retry_seconds
            warn = self.warned_at is None or now - self.warned_at >= WARN_EVERY_SECONDS
            if warn:
                self.warned_at = now
        if warn:
            logger.warning(
                "cache: Redis at %s is not answering (%s: %s); this process keeps throttles, "
                "lockouts and cached values in its own memory until it answers",
                self.where,
                type(error).__name__,
                error,
            )

    def answered(self) -> None:
        if self.since is None:
            return
        with self.lock:
            since, self.since, self.warned_at = self.since, None, None
        if since is not None:
            logger.info(
                "cache: Redis at %s answers again after %.0f s",
                self.where,
                time.monotonic() - since,
            )


_outages: dict[str, _Outage] = {}
_outages_lock = threading.Lock()


def _outage_for(location: str) -> _Outage:
    with _outages_lock:
        if location not in _outages:
            _outages[location] = _Outage(_where(location))
        return _outages[location]


def _where(location: str) -> str:
    """host:port/db of each server, without the credentials a URL may carry."""
    places = []
    for server in location.replace(";", ",").split(","):
        parts = urlsplit(server.strip())
        if parts.scheme == "unix":
            places.append(f"unix:{parts.path}")
        else:
            places.append(f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}")
    return ",".join(places)


class FailOpenRedisCache(RedisCache):
    """RedisCache, with each call Redis cannot answer served from this process's memory."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        self.retry_seconds = float(options.pop("RETRY_SECONDS", DEFAULT_RETRY_SECONDS))
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 1)
        super().__init__(server, {**params, "OPTIONS": options})
        location = server if isinstance(server, str) else ",".join(server)
        self._outage = _outage_for(location)
        # This cache makes the keys (prefix, version) before they reach the fallback, hence
        # its identity key function. LocMemCache instances of one name share their store, so
        # every thread of the process sees the same counts.
        self._fallback = LocMemCache(
            f"fail-open:{location}",
            {
                "TIMEOUT": params.get("TIMEOUT", 300),
                "KEY_FUNCTION": _identity_key,
                "OPTIONS": {"MAX_ENTRIES": FALLBACK_MAX_ENTRIES},
            },
        )

    def _call(self, name: str, *args, **kwargs):
        if not self._outage.skipping():
            try:
                result = getattr(super(), name)(*args, **kwargs)
            except RedisError as error:
                self._outage.failed(error, self.retry_seconds)
            else:
                self._outage.answered()
                return result
        return getattr(self, f"_fallback_{name}")(*args, **kwargs)

    # --- Each operation: Redis first, this process's memory while it does not answer -------

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("add", key, value, timeout, version)

    def get(self, key, default=None, version=None):
        return self._call("get", key, default, version)

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set", key, value, timeout, version)

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("touch", key, timeout, version)

    def delete(self, key, version=None):
        return self._call("delete", key, version)

    def get_many(self, keys, version=None):
        return self._call("get_many", list(keys), version)

    def has_key(self, key, version=None):
        return self._call("has_key", key, version)

    def incr(self, key, delta=1, version=None):
        return self._call("incr", key, delta, version)

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._call("set_many", data, timeout, version)

    def delete_many(self, keys, version=None):
        return self._call("delete_many", list(keys), version)

    def clear(self):
        self._fallback.clear()
        return self._call("clear")

    # --- The same in memory: keys made as this cache makes them, Redis's timeout rules -------

    def _local_key(self, key, version):
        return self.make_and_validate_key(key, version=version)

    def _local_timeout(self, timeout):
        # Redis's rules (None: forever, 0 or less: gone at once) in LocMemCache's terms.
        timeout = self.get_backend_timeout(timeout)
        return None if timeout is None else (timeout if timeout > 0 else -1)

    def _fallback_add(self, key, value, timeout, version):
        return self._fallback.add(
            self._local_key(key, version), value, self._local_timeout(timeout)
        )

    def _fallback_get(self, key, default, version):
        return self._fallback.get(self._local_key(key, version), default)

    def _fallback_set(self, key, value, timeout, version):
        self._fallback.set(self._local_key(key, version), value, self._local_timeout(timeout))

    def _fallback_touch(self, key, timeout, version):
        return self._fallback.touch(self._local_key(key, version), self._local_timeout(timeout))

    def _fallback_delete(self, key, version):
        return self._fallback.delete(self._local_key(key, version))

    def _fallback_get_many(self, keys, version):
        made = {self._local_key(key, version): key for key in keys}
        return {made[local]: value for local, value in self._fallback.get_many(made).items()}

    def _fallback_has_key(self, key, version):
        return self._fallback.has_key(self._local_key(key, version))

    def _fallback_incr(self, key, delta, version):
        return self._fallback.incr(self._local_key(key, version), delta)

    def _fallback_set_many(self, data, timeout, version):
        self._fallback.set_many(
            {self._local_key(key, version): value for key, value in data.items()},
            self._local_timeout(timeout),
        )
        return []

    def _fallback_delete_many(self, keys, version):
        self._fallback.delete_many([self._local_key(key, version) for key in keys])

    def _fallback_clear(self):
        return True
