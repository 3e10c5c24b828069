"""Writes for billing: starting a checkout, and what Stripe's signed events change.

Credits move only here, and each movement happens once:

- an event id is recorded in the same transaction as its effect (`StripeEvent`, unique), so a
  redelivered event changes nothing;
- a purchase's status moves forward through one conditional UPDATE, so two events about one
  payment (a completion delivered twice under different ids, a refund and a dispute) cannot
  both act;
- the grant and the take-back carry a unique ledger reference per Checkout Session.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import CreditEntry
from accounts.services import credits_grant
from core.exceptions import Conflict, DomainError

from . import stripe_gateway
from .models import CreditPack, Purchase, StripeEvent
from .selectors import payments_enabled

logger = logging.getLogger(__name__)


# --- Checkout -------------------------------------------------------------------------------


def purchase_start(*, user, pack: CreditPack) -> tuple[Purchase, str]:
    """Record a pending purchase of `pack`, then open a Checkout Session for it.

    Returns the purchase and the URL of Stripe's payment page. The row is committed before
    Stripe is called, so a webhook that arrives at once always finds it.
    """
    if not payments_enabled():
        raise Conflict("Payments are not set up here: credits come from the administrator.")
    if not pack.is_active:
        raise DomainError("This pack is not on sale any more.", field="pack")
    purchase = Purchase.objects.create(
        user=user,
        pack=pack,
        pack_name=pack.name,
        credits=pack.credits,
        price=pack.price,
        currency=pack.currency,
    )
    base = settings.PUBLIC_BASE_URL
    try:
        session = stripe_gateway.checkout_session_create(
            purchase_id=str(purchase.id),
            user_id=str(user.public_id),
            email=user.email,
            product_name=f"{pack.name}: {pack.credits:,} credits",
            amount=pack.price,
            currency=pack.currency,
            success_url=base + reverse("billing:purchase", args=[purchase.id]),
            cancel_url=base + reverse("billing:buy") + "?canceled=1",
        )
    except DomainError:
        Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
            status=Purchase.Status.FAILED
        )
        raise
    Purchase.objects.filter(pk=purchase.pk, stripe_session_id__isnull=True).update(
        stripe_session_id=session["id"]
    )
    purchase.stripe_session_id = session["id"]
    return purchase, session["url"]


# --- Webhook events -------------------------------------------------------------------------


def stripe_event_handle(*, event: dict[str, Any]) -> bool:
    """Apply a verified event once; False when its id was handled already.

    An event type we do not act on is recorded and ignored.
    """
    event_type = str(event.get("type", ""))
    data = event.get("data")
    data = data.get("object") if isinstance(data, dict) else None
    if not isinstance(data, dict):
        data = {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                StripeEvent.objects.create(event_id=event["id"], type=event_type[:100])
        except IntegrityError:
            logger.info("stripe event %s (%s) seen already", event["id"], event_type)
            return False
        handler = _HANDLERS.get(event_type)
        if handler is not None:
            handler(data)
    return True


def _purchase_of_session(session: dict[str, Any]) -> Purchase | None:
    """The purchase a Checkout Session was opened for (our id travels in it), or None."""
    metadata = session.get("metadata") or {}
    purchase_id = session.get("client_reference_id") or metadata.get("purchase_id")
    try:
        purchase = Purchase.objects.select_related("user").get(id=purchase_id)
    except (Purchase.DoesNotExist, ValueError, TypeError, ValidationError):
        logger.warning("stripe session %s names no purchase of ours", session.get("id"))
        return None
    session_id = session.get("id")
    if metadata.get("user_id", str(purchase.user.public_id)) != str(purchase.user.public_id):
        logger.error("stripe session %s: not the user of purchase %s", session_id, purchase.id)
        return None
    if not session_id or purchase.stripe_session_id not in (None, session_id):
        logger.error("stripe session %s is not the one of purchase %s", session_id, purchase.id)
        return None
    return purchase


def _purchase_of_payment(payment: dict[str, Any]) -> Purchase | None:
    """The purchase a charge or a dispute is about: by its PaymentIntent, else our metadata."""
    intent = payment.get("payment_intent")
    if isinstance(intent, dict):  # expanded
        intent = intent.get("id")
    if intent:
        purchase = Purchase.objects.filter(stripe_payment_intent=intent).first()
        if purchase is not None:
            return purchase
    purchase_id = (payment.get("metadata") or {}).get("purchase_id")
    if purchase_id:
        try:
            return Purchase.objects.filter(id=purchase_id).first()
        except (ValueError, ValidationError):
            return None
    return None


def _session_completed(session: dict[str, Any]) -> None:
    """checkout.session.completed / async_payment_succeeded: grant the pack's credits once."""
    if session.get("payment_status") != "paid":
        # A delayed payment method: `checkout.session.async_payment_succeeded` follows.
        logger.info("stripe session %s completed, not paid yet", session.get("id"))
        return
    purchase = _purchase_of_session(session)
    if purchase is None:
        return
    intent = session.get("payment_intent")
    if isinstance(intent, dict):
        intent = intent.get("id")
    moved = Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
        status=Purchase.Status.PAID,
        stripe_session_id=session["id"],
        stripe_payment_intent=intent or "",
        paid_at=timezone.now(),
    )
    if not moved:
        logger.info("purchase %s is %s already: nothing granted", purchase.pk, purchase.status)
        return
    purchase.stripe_session_id = session["id"]
    credits_grant(
        user=purchase.user,
        amount=purchase.credits,
        reason=f"Bought {purchase.pack_name} ({purchase.credits:,} credits, "
        f"{purchase.price_display})",
        reference=purchase.credit_reference,
    )
    logger.info(
        "purchase %s paid: %s credits to user %s", purchase.pk, purchase.credits, purchase.user_id
    )


def _session_expired(session: dict[str, Any]) -> None:
    purchase = _purchase_of_session(session)
    if purchase is not None:
        Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
            status=Purchase.Status.EXPIRED
        )


def _charge_refunded(charge: dict[str, Any]) -> None:
    """charge.refunded: a full refund takes the credits back; a partial one is left to staff."""
    if not charge.get("refunded"):
        logger.warning(
            "stripe charge %s partly refunded (%s of %s): credits left as they are",
            charge.get("id"),
            charge.get("amount_refunded"),
            charge.get("amount"),
        )
        return
    purchase = _purchase_of_payment(charge)
    if purchase is None:
        logger.warning("stripe charge %s refunded: no purchase of ours", charge.get("id"))
        return
    purchase_reverse(purchase=purchase, status=Purchase.Status.REFUNDED)


def _dispute_created(dispute: dict[str, Any]) -> None:
    """charge.dispute.created: the money is held by the bank, so the credits go back at once."""
    purchase = _purchase_of_payment(dispute)
    if purchase is None:
        logger.warning("stripe dispute %s: no purchase of ours", dispute.get("id"))
        return
    purchase_reverse(purchase=purchase, status=Purchase.Status.DISPUTED)


def purchase_reverse(*, purchase: Purchase, status: str) -> CreditEntry | None:
    """A paid purchase was refunded or disputed: take its credits back, once.

    The balance may go below zero (the credits were spent already): the ledger is a plain sum,
    and a negative balance only means no new work can start until credits are bought or
    granted. Clamping at zero would let a buyer spend the credits and then get their money
    back. A purchase refunded before its payment was confirmed ends there and grants nothing.
    """
    reversing = (Purchase.Status.REFUNDED, Purchase.Status.DISPUTED)
    if status not in reversing:
        raise ValueError(f"not a reversal: {status}")
    now = timezone.now()
    moved = Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PAID).update(
        status=status, reversed_at=now
    )
    if not moved:
        Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
            status=status, reversed_at=now
        )
        logger.info("purchase %s not paid (or reversed already): nothing to take back", purchase.pk)
        return None
    purchase.refresh_from_db()
    what = "Refund" if status == Purchase.Status.REFUNDED else "Disputed payment"
    return _credits_take_back(
        purchase=purchase,
        reason=f"{what}: {purchase.pack_name} ({purchase.credits:,} credits taken back)",
    )


def _credits_take_back(*, purchase: Purchase, reason: str) -> CreditEntry:
    """A negative grant under the purchase's reversal reference.

    `accounts.services.credits_grant` takes positive amounts only and `credits_reserve`
    refuses to overdraw, so the entry is written here; the ledger's unique (kind, reference)
    constraint on grants still makes a second one impossible.
    """
    reference = purchase.reversal_reference
    try:
        with transaction.atomic():
            return CreditEntry.objects.create(
                user_id=purchase.user_id,
                kind=CreditEntry.Kind.GRANT,
                amount=-purchase.credits,
                reason=reason[:200],
                reference=reference,
            )
    except IntegrityError:
        return CreditEntry.objects.get(kind=CreditEntry.Kind.GRANT, reference=reference)


_HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "checkout.session.completed": _session_completed,
    "checkout.session.async_payment_succeeded": _session_completed,
    "checkout.session.expired": _session_expired,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _dispute_created,
}
