"""Health checks: each returns None when its part answers, or raises with the reason.

Readiness (`/readyz`) requires only what serving a page needs: the database. The broker is
checked and reported too, but a broker outage leaves the process in the load balancer
("degraded"): reads keep working and writes that must enqueue answer 503 on their own
(core.broker), where taking every web process out would stop reads too. A Replicate outage or
a slow bucket must not take the web processes out either. The deep check (`/readyz?deep=1`,
`manage.py check_services`) adds storage and Replicate, for monitoring and for checking a
deployment's configuration.
"""

import contextlib
import logging
import uuid

from celery import current_app as celery_app
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from . import replicate_gateway

logger = logging.getLogger(__name__)

DEEP_CHECK_CACHE_SECONDS = 10
_DEEP_REPORT_CACHE_KEY = "health:deep-report"


def database_check() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def broker_check() -> None:
    with celery_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)


def storage_check() -> None:
    name = default_storage.save(f"health/{uuid.uuid4().hex}.txt", ContentFile(b"ok"))
    try:
        with default_storage.open(name) as stored:
            if stored.read() != b"ok":
                raise RuntimeError("storage returned other bytes than were written")
    finally:
        default_storage.delete(name)


def replicate_check() -> None:
    replicate_gateway.backend_check()


READINESS_CHECKS = {
    "database": database_check,
    "broker": broker_check,
}
# Parts whose failure makes the process unready; the others only make it "degraded".
REQUIRED_FOR_READINESS = ("database",)
DEEP_CHECKS = {
    **READINESS_CHECKS,
    "storage": storage_check,
    "replicate": replicate_check,
}


def checks_run(*, deep: bool = False) -> dict[str, Exception | None]:
    """Run the checks; each part maps to None when it answered, else to the exception."""
    failures: dict[str, Exception | None] = {}
    for name, check in (DEEP_CHECKS if deep else READINESS_CHECKS).items():
        try:
            check()
        except Exception as exc:  # any failure of a part means "not ready"
            logger.warning("health check %s failed: %r", name, exc)
            failures[name] = exc
        else:
            failures[name] = None
    return failures


def readiness_report(*, deep: bool = False) -> dict[str, str]:
    """Each part checked maps to "ok" or the kind of error.

    The full reason goes to the log only: the probe is public and must not reveal hosts or paths.
    The probe being public, a deep report is reused for DEEP_CHECK_CACHE_SECONDS, so that
    nobody can make us call Replicate and write to storage at the rate they send requests.
    """
    if deep:
        with contextlib.suppress(Exception):  # a cache that is down only costs a fresh check
            if cached := cache.get(_DEEP_REPORT_CACHE_KEY):
                return cached
    report = {
        name: "ok" if error is None else f"error: {type(error).__name__}"
        for name, error in checks_run(deep=deep).items()
    }
    if deep:
        with contextlib.suppress(Exception):
            cache.set(_DEEP_REPORT_CACHE_KEY, report, timeout=DEEP_CHECK_CACHE_SECONDS)
    return report
