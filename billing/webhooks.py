"""Stripe's webhook at /webhooks/stripe/.

The signature is checked over the raw body; the event's effect (a grant, a take-back) is one
local transaction with the record of its id, done before answering: nothing slow or remote
runs here, and if it fails nothing is recorded and Stripe delivers the event again. Stripe
retries any answer but 2xx, so a duplicate and an event type we ignore are 200 too.
"""

import logging

from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import stripe_gateway
from .selectors import payments_enabled
from .services import stripe_event_handle

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def stripe_webhook(request):
    if not payments_enabled():
        return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)
    try:
        event = stripe_gateway.webhook_event(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
    except stripe_gateway.WebhookRejected as rejection:
        logger.warning("stripe webhook rejected: %s", rejection)
        return JsonResponse(
            {"detail": "Invalid webhook signature.", "code": "invalid_signature"}, status=400
        )
    is_new = stripe_event_handle(event=event)
    logger.info(
        "stripe webhook %s %s %s", event.get("type"), event["id"], "new" if is_new else "replayed"
    )
    return HttpResponse(status=200)
