"""What training runs and generations share: work sent to Replicate and followed to its end.

Both keep a `status` that moves queued → starting → processing → succeeded / failed /
canceled, and a `last_event_at`. A change only ever moves forward, through a conditional
UPDATE, so duplicated, late or out-of-order events (a `processing` webhook after `succeeded`)
change nothing, whatever the order in which workers apply them.
"""

from datetime import datetime, timedelta

from django.db.models import Model, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

STATUS_RANK = {
    "queued": 0,
    "starting": 1,
    "processing": 2,
    "succeeded": 3,
    "failed": 3,
    "canceled": 3,
}
TERMINAL_STATUSES = ("succeeded", "failed", "canceled")


def remote_time(value: str | None) -> datetime | None:
    """A timestamp as Replicate writes it (RFC 3339), or None."""
    return parse_datetime(value) if value else None


def status_advance(queryset: QuerySet, *, pk, target: str, **fields) -> bool:
    """Set `target` (and `fields`) on row `pk` only if that moves it forward; True if it did."""
    allowed_from = [status for status, rank in STATUS_RANK.items() if rank < STATUS_RANK[target]]
    return bool(queryset.filter(pk=pk, status__in=allowed_from).update(status=target, **fields))


def remote_jobs_reconcile(
    *,
    model: type[Model],
    remote_id_field: str,
    quiet_for: timedelta,
    refresh_task,
    submit_task,
) -> int:
    """Poll jobs that have had no news for `quiet_for` (a webhook may have been lost), and
    submit again queued ones whose submission task was lost. Returns how many were enqueued."""
    stale = model.objects.filter(last_event_at__lt=timezone.now() - quiet_for)
    count = 0
    running = stale.filter(
        status__in=["starting", "processing"], **{f"{remote_id_field}__isnull": False}
    )
    for remote_id in running.values_list(remote_id_field, flat=True):
        refresh_task.delay(remote_id)
        count += 1
    unsent = stale.filter(status="queued", **{f"{remote_id_field}__isnull": True})
    for pk in unsent.values_list("pk", flat=True):
        # Touched first, so the next round does not submit it again while this one runs.
        model.objects.filter(pk=pk).update(last_event_at=timezone.now())
        submit_task.delay(str(pk))
        count += 1
    return count
