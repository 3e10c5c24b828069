"""Readiness checks: each returns None when its part answers, or raises with the reason."""

import logging
import uuid

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from config.celery import app as celery_app

from . import replicate_gateway

logger = logging.getLogger(__name__)


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
    "storage": storage_check,
    "replicate": replicate_check,
}


def readiness_report() -> dict[str, str]:
    """Run every check; the result maps each part to "ok" or the kind of error.

    The full reason goes to the log only: the probe is public and must not reveal hosts or paths.
    """
    report = {}
    for name, check in READINESS_CHECKS.items():
        try:
            check()
        except Exception as exc:  # any failure of a part means "not ready"
            logger.warning("readiness check %s failed: %r", name, exc)
            report[name] = f"error: {type(exc).__name__}"
        else:
            report[name] = "ok"
    return report
