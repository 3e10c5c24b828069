"""The Replicate webhook receiver at /webhooks/replicate/.

It verifies the signature over the raw body, enqueues the work (a task of the app that owns
the object), records the delivery id (a replay or a retry of an accepted delivery is
acknowledged and ignored) and answers 2xx at once. Apps register a handler per kind in
AppConfig.ready(); the kind travels in the webhook URL we gave Replicate (`?kind=training`).

A delivery is recorded only once its task is in the broker: while the broker is down the
receiver answers 503 with nothing recorded, and Replicate's retry (the same `webhook-id`) is
accepted when it is back.
"""

import logging
from collections.abc import Callable

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import replicate_gateway
from .broker import BROKER_ERRORS, RETRY_AFTER_SECONDS
from .services import webhook_delivery_accept

logger = logging.getLogger(__name__)

# kind -> handler(remote_id: str) that enqueues the owning app's task. The receiver calls it
# outside any transaction, before it records the delivery: it must send the task at once
# (`.delay()`; `.delay_on_commit()` does the same outside a transaction) and let the broker's
# error propagate.
WebhookHandler = Callable[[str], None]
_handlers: dict[str, WebhookHandler] = {}


def register_webhook_handler(kind: str, handler: WebhookHandler) -> None:
    _handlers[kind] = handler


def webhook_url(*, kind: str) -> str:
    """The absolute URL Replicate should call for objects of `kind`."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('replicate-webhook')}?{urlencode({'kind': kind})}"


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def replicate_webhook(request):
    kind = request.GET.get("kind", "")
    handler = _handlers.get(kind)
    if handler is None:
        return JsonResponse({"detail": "Unknown webhook kind.", "code": "invalid"}, status=400)
    headers = dict(request.headers)
    try:
        job = replicate_gateway.webhook_verify(headers=headers, body=request.body)
        delivery_id = replicate_gateway.webhook_id(headers)
    except replicate_gateway.WebhookRejected as rejection:
        logger.warning("replicate webhook rejected: %s", rejection)
        return JsonResponse(
            {"detail": "Invalid webhook signature.", "code": "invalid_signature"}, status=401
        )
    except replicate_gateway.ReplicateServiceError:
        # We could not fetch the signing secret: ask Replicate to try again later.
        logger.exception("replicate webhook: signing secret unavailable")
        return JsonResponse({"detail": "Try again later.", "code": "unavailable"}, status=503)

    try:
        is_new = webhook_delivery_accept(
            webhook_id=delivery_id,
            remote_id=job.id,
            remote_status=job.status,
            enqueue=lambda: handler(job.id),
        )
    except BROKER_ERRORS as error:
        # Nothing was recorded: Replicate retries with the same id, accepted once we can enqueue.
        logger.warning("replicate webhook %s %s not accepted, broker down: %r", kind, job.id, error)
        response = JsonResponse({"detail": "Try again later.", "code": "unavailable"}, status=503)
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    logger.info(
        "replicate webhook %s %s %s %s", kind, job.id, job.status, "new" if is_new else "replayed"
    )
    return HttpResponse(status=200 if is_new else 202)
