"""The one module that talks to Stripe: creating a Checkout Session, verifying a webhook.

Everything else in the project passes plain values in and gets plain values out, and sees
only the project's own errors.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import stripe
from django.conf import settings

from core.exceptions import ExternalServiceError

logger = logging.getLogger(__name__)


class WebhookRejected(Exception):
    """The body is not a Stripe event signed with our endpoint's secret, within the tolerance."""


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        # The library retries connection errors, 409s and 5xx with back-off; the idempotency
        # key below makes a retried create return the first session.
        max_network_retries=2,
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
    )


def checkout_session_create(
    *,
    purchase_id: str,
    user_id: str,
    email: str,
    product_name: str,
    amount: int,
    currency: str,
    success_url: str,
    cancel_url: str,
) -> dict[str, str]:
    """A Checkout Session for one payment of `amount`; returns its `id` and `url`."""
    metadata = {"purchase_id": purchase_id, "user_id": user_id}
    params: dict[str, Any] = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency,
                    "unit_amount": amount,
                    "product_data": {"name": product_name},
                },
            }
        ],
        "client_reference_id": purchase_id,
        "metadata": metadata,
        # Copied onto the payment, so that a refund or a dispute can be traced back too.
        "payment_intent_data": {"metadata": metadata},
        "customer_email": email,
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    try:
        session = _client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": f"purchase:{purchase_id}"}
        )
    except stripe.StripeError as error:
        logger.warning("stripe checkout session for purchase %s failed: %r", purchase_id, error)
        raise ExternalServiceError(
            "We could not reach the payment provider. Nothing was charged: try again in a minute."
        ) from error
    session_id, url = getattr(session, "id", None), getattr(session, "url", None)
    if not session_id or not url:
        raise ExternalServiceError("The payment provider gave no payment page. Try again later.")
    return {"id": session_id, "url": url}


def webhook_event(*, payload: bytes, signature: str) -> dict[str, Any]:
    """The event in a webhook's body, once its `Stripe-Signature` is checked; else WebhookRejected.

    `stripe.Webhook.construct_event` checks the HMAC-SHA256 of "t.payload" with the endpoint's
    secret, and that `t` is within the tolerance; the event is returned as plain JSON.
    """
    if not signature:
        raise WebhookRejected("no Stripe-Signature header")
    try:
        stripe.Webhook.construct_event(
            payload,
            signature,
            settings.STRIPE_WEBHOOK_SECRET,
            tolerance=settings.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
        )
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, ValueError, UnicodeDecodeError) as error:
        raise WebhookRejected(str(error)) from error
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise WebhookRejected("not an event")
    return event
