"""The Redis cache that a Redis outage cannot take down (core.cache.FailOpenRedisCache).

Every test points the cache at a port where nothing listens: Django's own RedisCache raises on
each call there, so every API request (the throttles read the cache) and every sign-in (the
lockout counts in it) would answer 500. The outage itself, with a Redis stopped and started
again, is in tests/reliability/test_redis_outage.py.
"""

import logging
import socket

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

from accounts import lockout
from core.cache import FailOpenRedisCache
from tests.factories import TEST_PASSWORD, verify_email


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again on leaving: nothing listens there


@pytest.fixture
def down_url():
    return f"redis://127.0.0.1:{_closed_port()}/1"


@pytest.fixture
def redis_down(settings, down_url):
    """The default cache is a FailOpenRedisCache on a Redis that does not answer."""
    settings.CACHES = {
        "default": {"BACKEND": "core.cache.FailOpenRedisCache", "LOCATION": down_url}
    }
    cache.clear()
    return down_url


class _Untouchable:
    """Stands in for the Redis client: any use of it fails the test."""

    def __getattr__(self, name):
        raise AssertionError(f"Redis was called ({name}) while it is known to be down")


def test_django_s_own_redis_cache_raises_there(down_url):
    # What the wrapper is for: without it, every call raises.
    with pytest.raises(Exception, match=r"[Cc]onnect"):
        RedisCache(down_url, {}).get("anything")


def test_every_operation_is_served_from_memory_while_redis_is_down(down_url, caplog):
    store = FailOpenRedisCache(down_url, {"OPTIONS": {"RETRY_SECONDS": 60}})
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        assert store.get("missing", "default") == "default"
        store.set("kept", {"a": 1}, timeout=60)
        assert store.get("kept") == {"a": 1}
        assert store.add("kept", "other") is False
        assert store.add("new", 1) is True
        assert store.incr("new", 4) == 5
        assert store.decr("new") == 4
        with pytest.raises(ValueError):  # Django's contract for a missing key, as with Redis
            store.incr("never-set")
        store.set_many({"m1": 1, "m2": 2})
        assert store.get_many(["m1", "m2", "m3"]) == {"m1": 1, "m2": 2}
        assert store.has_key("m1")
        assert store.touch("m1", timeout=60)
        store.delete_many(["m1", "m2"])
        assert store.get_many(["m1", "m2"]) == {}
        assert store.delete("kept") is True
        assert store.get_or_set("computed", lambda: "value") == "value"
        store.set("gone", "x", timeout=0)  # as with Redis: 0 means gone at once
        assert store.get("gone") is None
        assert store.clear()
        assert store.get("new") is None

    warnings = [r for r in caplog.records if r.name == "core.cache" and r.levelname == "WARNING"]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]  # one line, not one per call
    assert "is not answering" in warnings[0].getMessage()


def test_redis_is_not_asked_again_before_the_retry_delay(down_url, monkeypatch):
    store = FailOpenRedisCache(down_url, {"OPTIONS": {"RETRY_SECONDS": 60}})
    assert store.get("k") is None  # the first call finds Redis down
    store.__dict__["_cache"] = _Untouchable()  # the client, cached on the instance
    store.set("k", 1)
    assert store.get("k") == 1

    # Once the delay is over, the next call tries Redis again.
    outage = store._outage
    monkeypatch.setattr(outage, "retry_at", 0.0)
    with pytest.raises(AssertionError, match="Redis was called"):
        store.get("k")


def test_credentials_in_the_url_stay_out_of_the_log(caplog):
    url = f"redis://:s3cret-password@127.0.0.1:{_closed_port()}/1"
    with caplog.at_level(logging.WARNING, logger="core.cache"):
        FailOpenRedisCache(url, {}).get("k")
    assert "is not answering" in caplog.text
    assert "s3cret" not in caplog.text


def test_the_api_answers_and_still_throttles_while_redis_is_down(
    redis_down, settings, owner, as_user
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "user": "3/min",
        },
    }
    client = as_user(owner)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 200]
    # Counted in this process's memory meanwhile: the limit still applies.
    limited = client.get("/api/v1/me/")
    assert limited.status_code == 429
    assert int(limited["Retry-After"]) > 0


@pytest.mark.django_db
def test_sign_in_works_and_the_lockout_still_counts_while_redis_is_down(redis_down, api, owner):
    verify_email(owner)
    sign_in = {"email": owner.email, "password": TEST_PASSWORD}
    assert api.post("/api/v1/auth/token/", sign_in, REMOTE_ADDR="10.3.3.3").status_code == 200
    for _ in range(5):
        wrong = {"email": owner.email, "password": "wrong"}
        assert api.post("/api/v1/auth/token/", wrong, REMOTE_ADDR="10.3.3.3").status_code == 401
    locked = api.post("/api/v1/auth/token/", sign_in, REMOTE_ADDR="10.3.3.3")
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"


def test_lockout_functions_do_not_raise_while_redis_is_down(redis_down, settings):
    for _ in range(settings.LOGIN_LOCKOUT_FAILURES):
        lockout.lockout_failure_record(email="someone@example.com", ip="10.4.4.4")
    assert lockout.lockout_remaining(email="someone@example.com", ip=None) > 0
    lockout.lockout_success_record(email="someone@example.com")
    lockout.lockout_clear(email="someone@example.com")
    assert lockout.lockout_remaining(email="someone@example.com", ip=None) == 0
