"""Strikes and suspensions: what a user's rejected pictures and blocked prompts lead to.

A rejected picture always counts; a blocked prompt counts when its category is one of
MODERATION_STRIKE_CATEGORIES. Past MODERATION_STRIKE_LIMIT strikes since the last lifted
suspension, the account is suspended from generating and training. The user sees why and can
appeal; an administrator reads the appeal and lifts the suspension. Every step is audited.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.exceptions import DomainError, LimitExceeded

from .audit import audit_record
from .models import Strike, Suspension

logger = logging.getLogger(__name__)


class AccountSuspended(LimitExceeded):
    code = "account_suspended"


def suspension_active(*, user) -> Suspension | None:
    if user is None or not user.is_authenticated:
        return None
    return Suspension.objects.filter(user=user, lifted_at__isnull=True).first()


def suspension_check(*, user) -> None:
    """Raise AccountSuspended (403) for a suspended account: no generating, no training."""
    suspension = suspension_active(user=user)
    if suspension is not None:
        raise AccountSuspended(
            "Your account is suspended from generating and training: "
            f"{suspension.reason} You can appeal from your profile page."
        )


def strikes_counting(*, user) -> int:
    """Strikes since the last lifted suspension (all of them when there was none)."""
    strikes = Strike.objects.filter(user=user)
    lifted = Suspension.objects.filter(user=user, lifted_at__isnull=False).first()
    if lifted is not None:
        strikes = strikes.filter(created_at__gt=lifted.lifted_at)
    return strikes.count()


def strike_add(*, user, kind: str, category: str, reference: str) -> Strike | None:
    """Count one strike (once per `reference`); suspend past the limit. None if it does not
    count (a blocked prompt in a category that is not counted)."""
    if kind == Strike.Kind.BLOCKED_PROMPT and category not in settings.MODERATION_STRIKE_CATEGORIES:
        return None
    try:
        with transaction.atomic():
            strike = Strike.objects.create(
                user=user, kind=kind, category=category, reference=reference[:120]
            )
    except IntegrityError:  # the same picture or prompt again: it counted once already
        return Strike.objects.filter(user=user, reference=reference[:120]).first()
    count = strikes_counting(user=user)
    if count >= settings.MODERATION_STRIKE_LIMIT and suspension_active(user=user) is None:
        _suspend(user=user, count=count)
    return strike


def _suspend(*, user, count: int) -> Suspension:
    reason = (
        f"{count} of your pictures or prompts broke the content rules "
        f"(the limit is {settings.MODERATION_STRIKE_LIMIT})."
    )
    suspension, _ = Suspension.objects.update_or_create(
        user=user,
        defaults={
            "reason": reason,
            "created_at": timezone.now(),
            "appeal": "",
            "appealed_at": None,
            "lifted_at": None,
            "lifted_by": None,
            "lift_reason": "",
        },
    )
    audit_record(actor=None, action="user.suspend", target=user, summary=reason)
    logger.info("user %s suspended after %d strikes", user.pk, count)
    return suspension


def suspension_appeal(*, user, text: str) -> Suspension:
    """The suspended user explains; an administrator reads it in the admin."""
    text = (text or "").strip()
    if not text:
        raise DomainError("Say why the suspension should be lifted.", field="appeal")
    if len(text) > 2000:
        raise DomainError("At most 2000 characters.", field="appeal")
    suspension = suspension_active(user=user)
    if suspension is None:
        raise DomainError("Your account is not suspended.", code="not_suspended")
    Suspension.objects.filter(pk=suspension.pk).update(appeal=text, appealed_at=timezone.now())
    audit_record(actor=user, action="user.appeal", target=user, summary=text[:200])
    suspension.refresh_from_db()
    return suspension


def suspension_lift(*, suspension: Suspension, actor, reason: str = "") -> Suspension:
    """An administrator lifts a suspension; strikes before now no longer count."""
    if suspension.lifted_at is not None:
        return suspension
    Suspension.objects.filter(pk=suspension.pk, lifted_at__isnull=True).update(
        lifted_at=timezone.now(), lifted_by=actor, lift_reason=(reason or "")[:300]
    )
    audit_record(actor=actor, action="user.unsuspend", target=suspension.user, reason=reason)
    suspension.refresh_from_db()
    return suspension
