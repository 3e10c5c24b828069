"""The audit trail: who did what to which object, and why; every moderation write adds to it."""

from __future__ import annotations

from django.db import models

from .models import AuditRecord


def audit_record(
    *,
    actor,
    action: str,
    target: models.Model | None = None,
    object_type: str = "",
    object_id: str | int = "",
    summary: str = "",
    before: dict | None = None,
    after: dict | None = None,
    reason: str = "",
) -> AuditRecord:
    """Append one record: who (`actor`, may be None for the system) did `action` to what, why.

    The object is `target`, or `object_type` ("app_label.model") and `object_id`.
    """
    if target is not None:
        object_type = object_type or target._meta.label_lower
        object_id = object_id or target.pk
    changes = {}
    if before is not None:
        changes["before"] = before
    if after is not None:
        changes["after"] = after
    return AuditRecord.objects.create(
        actor=actor if actor is not None and actor.is_authenticated else None,
        action=action,
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        summary=summary[:300],
        changes=changes,
        reason=reason or "",
    )
