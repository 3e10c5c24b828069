"""Where a job stands, and the one way its status changes: forward only."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from core.models import JobStatus

STATUS_RANK = {
    JobStatus.QUEUED: 0,
    JobStatus.SUBMITTING: 1,
    JobStatus.STARTING: 2,
    JobStatus.PROCESSING: 3,
    JobStatus.SUCCEEDED: 4,
    JobStatus.FAILED: 4,
    JobStatus.CANCELED: 4,
}


def remote_time(value: str | None) -> datetime | None:
    """A timestamp as Replicate writes it (RFC 3339), or None."""
    return parse_datetime(value) if value else None


def status_advance(queryset: QuerySet, *, pk, target: str, **fields) -> bool:
    """Set `target` (and `fields`) on row `pk` only if that moves it forward; True if it did."""
    allowed_from = [status for status, rank in STATUS_RANK.items() if rank < STATUS_RANK[target]]
    return bool(queryset.filter(pk=pk, status__in=allowed_from).update(status=target, **fields))
