"""Lockout after repeated failed sign-ins, per account and per client IP.

Failures are counted in the Django cache (Redis in production, a file cache in the embedded
mode, so every process sees the same counts). After LOGIN_LOCKOUT_FAILURES failures for one
e-mail address, or LOGIN_LOCKOUT_IP_FAILURES from one IP, within LOGIN_LOCKOUT_WINDOW_SECONDS,
every attempt is refused for LOGIN_LOCKOUT_SECONDS, right password or not. It applies to the
web sign-in, the admin's and the API's (`auth/token/`, `me/password/`): failures are recorded
from Django's `user_login_failed` signal, and `accounts.backends.LockoutBackend` refuses
attempts while locked.

While Redis does not answer, each process counts in its own memory
(`core.cache.FailOpenRedisCache`): signing in keeps working and is still limited, per process;
counts and locks made meanwhile are not kept once Redis is back.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from contextlib import contextmanager

from allauth.core.internal.httpkit import get_client_ip
from django.conf import settings
from django.core.cache import cache

from core.exceptions import DomainError, LimitExceeded

logger = logging.getLogger(__name__)


class LockedOut(LimitExceeded):
    """Sign-in refused until `retry_after` seconds have passed."""

    code = "locked_out"

    def __init__(self, retry_after: int):
        minutes = max(1, math.ceil(retry_after / 60))
        super().__init__(
            "Too many failed sign-in attempts. For your safety, signing in is paused: try again "
            f"in {minutes} minute{'' if minutes == 1 else 's'}, or reset your password.",
            code=self.code,
            retry_after=retry_after,
        )


def _account_key(email: str) -> str:
    digest = hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32]
    return f"lockout:account:{digest}"


def _ip_key(ip: str) -> str:
    return f"lockout:ip:{ip}"


def client_ip(request) -> str | None:
    if request is None:
        return None
    try:
        return get_client_ip(request)
    except Exception:  # a malformed X-Forwarded-For must not break sign-in
        return request.META.get("REMOTE_ADDR")


def _subjects(email: str | None, ip: str | None) -> list[tuple[str, int]]:
    subjects = []
    if email:
        subjects.append((_account_key(email), settings.LOGIN_LOCKOUT_FAILURES))
    if ip:
        subjects.append((_ip_key(ip), settings.LOGIN_LOCKOUT_IP_FAILURES))
    return subjects


def lockout_remaining(*, email: str | None, ip: str | None) -> int:
    """Seconds until sign-in is allowed again for this e-mail address and IP (0: allowed)."""
    now = time.time()
    remaining = 0.0
    for key, _ in _subjects(email, ip):
        until = cache.get(f"{key}:until")
        if until:
            remaining = max(remaining, until - now)
    return math.ceil(remaining) if remaining > 0 else 0


def lockout_check(*, email: str | None, ip: str | None) -> None:
    """Raise LockedOut (429 with Retry-After) while this account or IP is locked out."""
    remaining = lockout_remaining(email=email, ip=ip)
    if remaining:
        raise LockedOut(remaining)


def lockout_failure_record(*, email: str | None, ip: str | None) -> None:
    window = settings.LOGIN_LOCKOUT_WINDOW_SECONDS
    for key, threshold in _subjects(email, ip):
        count_key = f"{key}:failures"
        cache.add(count_key, 0, timeout=window)
        try:
            count = cache.incr(count_key)
        except ValueError:  # expired between add and incr
            cache.set(count_key, 1, timeout=window)
            count = 1
        if count >= threshold and not cache.get(f"{key}:until"):
            seconds = settings.LOGIN_LOCKOUT_SECONDS
            cache.set(f"{key}:until", time.time() + seconds, timeout=seconds)
            cache.delete(count_key)
            logger.warning("sign-in locked for %ss after %s failures (%s)", seconds, count, key)


@contextmanager
def password_confirmation(*, email: str, ip: str | None):
    """Around a service that checks a password the user typed (password change, deletion).

    Refused while locked out; a wrong password (DomainError `wrong_password`) counts as a
    failed sign-in, so a stolen session cannot be used to guess the password either.
    """
    lockout_check(email=email, ip=ip)
    try:
        yield
    except DomainError as error:
        if error.code == "wrong_password":
            lockout_failure_record(email=email, ip=ip)
        raise


def lockout_success_record(*, email: str | None) -> None:
    """A right password clears the account's failure count (never the IP's, nor a lock)."""
    if email:
        cache.delete(f"{_account_key(email)}:failures")


def lockout_clear(*, email: str) -> None:
    """Lift an account's lock (after a password reset, or by an administrator)."""
    key = _account_key(email)
    cache.delete_many([f"{key}:failures", f"{key}:until"])
