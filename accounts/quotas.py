"""Plan limits: how much of each a user has used, and a check that refuses what would go over.

Accounts does not know what a model or a generation is. The apps that own those register a
counting function for each kind, once, in their AppConfig.ready():

    from accounts.quotas import register_usage_counter

    def count_models(*, user, since=None) -> int:
        return LoraModel.objects.filter(owner=user).count()

    register_usage_counter("models", count_models)

`since` is the start of the current period (first day of the month for
`trainings_per_month`, midnight UTC for `generations_per_day`, None for the others). Several
counters for one kind are added up (storage is used by datasets and by generated images).

Check before you create, in the same transaction as the create:

    with transaction.atomic():
        quota_check(user=user, kind="models")          # raises LimitExceeded
        LoraModel.objects.create(...)

Inside a transaction `quota_check` locks the user's row, so two requests of one user cannot
both pass the check and end over the limit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.template.defaultfilters import filesizeformat
from django.utils import timezone

from core.exceptions import LimitExceeded

from .models import User
from .selectors import plan_for_user

logger = logging.getLogger(__name__)

KINDS = ("models", "trainings_per_month", "generations_per_day", "storage_bytes")

_LABELS = {
    "models": "Models",
    "trainings_per_month": "Trainings this month",
    "generations_per_day": "Generations today",
    "storage_bytes": "Storage",
}
_PLAN_FIELDS = {
    "models": "max_models",
    "trainings_per_month": "max_trainings_per_month",
    "generations_per_day": "max_generations_per_day",
    "storage_bytes": "max_storage_bytes",
}

UsageCounter = Callable[..., int]
_counters: dict[str, dict[str, UsageCounter]] = {kind: {} for kind in KINDS}


def register_usage_counter(kind: str, counter: UsageCounter) -> None:
    """Add `counter(*, user, since) -> int` to the usage of `kind`. Registering twice is a no-op."""
    if kind not in KINDS:
        raise ValueError(f"Unknown quota kind {kind!r}; expected one of {', '.join(KINDS)}.")
    key = f"{getattr(counter, '__module__', '')}.{getattr(counter, '__qualname__', id(counter))}"
    _counters[kind][key] = counter


def _period(kind: str, now: datetime) -> tuple[datetime | None, datetime | None]:
    """Start of the current period and when the next one begins (UTC), for periodic kinds."""
    now = now.astimezone(UTC)
    if kind == "generations_per_day":
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return start, start + timedelta(days=1)
    if kind == "trainings_per_month":
        start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = (start + timedelta(days=32)).replace(day=1)
        return start, following
    return None, None


@dataclass(frozen=True)
class QuotaUsage:
    kind: str
    label: str
    used: int
    limit: int | None  # None: no limit
    resets_at: datetime | None  # None: does not reset

    @property
    def remaining(self) -> int | None:
        return None if self.limit is None else max(self.limit - self.used, 0)

    @property
    def percent(self) -> int:
        if not self.limit:
            return 100 if self.limit == 0 else 0
        return min(100, round(100 * self.used / self.limit))

    def format(self, value: int | None) -> str:
        if value is None:
            return "no limit"
        return filesizeformat(value) if self.kind == "storage_bytes" else str(value)


def quota_usage(*, user, kind: str, now: datetime | None = None, plan=None) -> QuotaUsage:
    if kind not in KINDS:
        raise ValueError(f"Unknown quota kind {kind!r}.")
    start, resets_at = _period(kind, now or timezone.now())
    used = sum(int(counter(user=user, since=start)) for counter in _counters[kind].values())
    limit = getattr(plan or plan_for_user(user=user), _PLAN_FIELDS[kind])
    return QuotaUsage(kind=kind, label=_LABELS[kind], used=used, limit=limit, resets_at=resets_at)


def quota_summary(*, user) -> list[QuotaUsage]:
    """Usage against every limit of the user's plan, for the profile page and `me/`."""
    now = timezone.now()
    plan = plan_for_user(user=user)
    return [quota_usage(user=user, kind=kind, now=now, plan=plan) for kind in KINDS]


def user_row_lock(*, user) -> None:
    """Lock the user's row until the caller's transaction ends: check-then-create (quotas,
    credit reservations) of one user is serialised by this one lock."""
    User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def quotas_check(*, user, amounts: dict[str, int], user_locked: bool = False) -> None:
    """`quota_check` for several kinds at once, the plan read once; a kind the plan does not
    limit is not counted at all (its usage sums are the costly part of a submit)."""
    plan = None
    for kind, amount in amounts.items():
        if kind not in KINDS:
            raise ValueError(f"Unknown quota kind {kind!r}.")
        plan = plan or plan_for_user(user=user)
        if getattr(plan, _PLAN_FIELDS[kind]) is None:
            continue
        quota_check(user=user, kind=kind, amount=amount, user_locked=user_locked, plan=plan)
        user_locked = True  # quota_check took the lock if it was not held yet


def quota_check(
    *, user, kind: str, amount: int = 1, user_locked: bool = False, plan=None
) -> QuotaUsage:
    """Refuse (LimitExceeded) when adding `amount` would go over the plan's limit for `kind`.

    Limits that reset (per day, per month) answer 429 with Retry-After; the others 403.
    `user_locked`: the caller already holds the user's row lock in this transaction.
    """
    if not user_locked and transaction.get_connection().in_atomic_block:
        # Serialises check-then-create per user; released when the caller's transaction ends.
        user_row_lock(user=user)
    now = timezone.now()
    usage = quota_usage(user=user, kind=kind, now=now, plan=plan)
    if usage.limit is None or usage.used + amount <= usage.limit:
        return usage
    plan = plan.name if plan is not None else _plan_name(user)
    if kind == "models":
        message = (
            f"Your plan ({plan}) allows {usage.limit} model{_s(usage.limit)} and you have "
            f"{usage.used}. Delete a model to train a new one."
        )
    elif kind == "storage_bytes":
        message = (
            f"Your plan ({plan}) allows {filesizeformat(usage.limit)} of storage and "
            f"{filesizeformat(usage.used)} is used; this needs {filesizeformat(amount)} more. "
            "Delete some photos or images first."
        )
    elif kind == "trainings_per_month":
        message = (
            f"Your plan ({plan}) allows {usage.limit} training{_s(usage.limit)} a month and "
            f"you have used {usage.used}. You can train again on "
            f"{usage.resets_at.day} {usage.resets_at:%B} at 00:00 UTC."
        )
    else:
        message = (
            f"Your plan ({plan}) allows {usage.limit} generation{_s(usage.limit)} a day and "
            f"you have used {usage.used}. The count starts again at 00:00 UTC."
        )
    retry_after = None
    if usage.resets_at is not None:
        retry_after = max(1, int((usage.resets_at - now).total_seconds()))
    logger.info("quota %s refused for user %s (%s/%s)", kind, user.pk, usage.used, usage.limit)
    raise LimitExceeded(message, code=f"{kind}_limit", retry_after=retry_after)


def _plan_name(user) -> str:
    return plan_for_user(user=user).name


def _s(count: int) -> str:
    return "" if count == 1 else "s"
