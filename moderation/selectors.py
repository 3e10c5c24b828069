"""Reads of the moderation app. Stopped prompts and the audit trail are for moderators only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from accounts.selectors import user_is_moderator

from .models import AuditRecord, PromptBlock


@dataclass(frozen=True)
class PromptBlockFilters:
    category: str | None = None
    action: str | None = None  # PromptBlock.Action
    source: str | None = None
    since: datetime | None = None


def prompt_block_list(*, user, filters: PromptBlockFilters | None = None) -> QuerySet[PromptBlock]:
    """Stopped prompts, newest first; empty for anyone who may not moderate."""
    if not user_is_moderator(user=user):
        return PromptBlock.objects.none()
    filters = filters or PromptBlockFilters()
    blocks = PromptBlock.objects.select_related("user")
    if filters.category:
        blocks = blocks.filter(category=filters.category)
    if filters.action:
        blocks = blocks.filter(action=filters.action)
    if filters.source:
        blocks = blocks.filter(source=filters.source)
    if filters.since:
        blocks = blocks.filter(created_at__gte=filters.since)
    return blocks.order_by("-created_at", "-id")


def audit_record_list(
    *, user, object_type: str | None = None, object_id: str | int | None = None
) -> QuerySet[AuditRecord]:
    if not user_is_moderator(user=user):
        return AuditRecord.objects.none()
    records = AuditRecord.objects.select_related("actor")
    if object_type:
        records = records.filter(object_type=object_type)
    if object_id is not None:
        records = records.filter(object_id=str(object_id))
    return records.order_by("-created_at", "-id")
