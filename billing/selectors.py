"""Reads for billing: the packs on sale, and a user's own purchases."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from core.exceptions import NotFound

from .models import CreditPack, Purchase


def payments_enabled() -> bool:
    """Payments are on only with both Stripe keys: a secret key and the webhook's secret."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_WEBHOOK_SECRET)


def credit_pack_list() -> QuerySet[CreditPack]:
    """The packs on sale, in the administrator's order."""
    return CreditPack.objects.filter(is_active=True).order_by("sort_order", "price", "id")


def credit_pack_get(*, pack_id: int | str) -> CreditPack:
    """A pack on sale; NotFound for an unknown or withdrawn one."""
    try:
        return credit_pack_list().get(pk=int(pack_id))
    except (CreditPack.DoesNotExist, TypeError, ValueError) as error:
        raise NotFound("This pack is not on sale.", field="pack") from error


def purchase_list(*, user) -> QuerySet[Purchase]:
    return Purchase.objects.filter(user=user).order_by("-created_at")


def purchase_get(*, user, purchase_id: uuid.UUID | str) -> Purchase:
    try:
        return Purchase.objects.get(user=user, id=purchase_id)
    except (Purchase.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("No such purchase.") from error
