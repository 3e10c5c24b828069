"""The Replicate webhook receiver at /webhooks/replicate/.

It verifies the signature over the raw body, records the delivery id with one
`INSERT … ON CONFLICT DO NOTHING` in autocommit whose commit does not wait for the disk (a
replay or a retry of an accepted delivery is acknowledged and ignored), enqueues the work (a
task of the app that owns the object, given the signed body) and answers 2xx at once. Apps
register a handler per kind in AppConfig.ready(); the kind travels in the webhook URL we gave
Replicate (`?kind=training`).

This path runs for every event of every job, so it does the least it can: a middleware lane of
its own (the size cap, the request id and SecurityMiddleware only: core.middleware), no
transaction or savepoint, no connection health check (a dead connection fails the INSERT,
answered 503), the task sent on the thread's own producer without retry (webhook_task_send),
one log line (the request's own, see RequestIdMiddleware).

A delivery stays recorded only once its task is in the broker: while the broker is down the
receiver removes the record and answers 503, and Replicate's retry (the same `webhook-id`) is
accepted when it is back. A process that dies between the INSERT and the enqueue loses that one
event; reconciliation polls a job that has been quiet for a while, so it is late, not lost.
"""

import contextlib
import logging
import threading
from collections.abc import Callable

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import replicate_gateway
from .broker import BROKER_ERRORS, RETRY_AFTER_SECONDS
from .models import WebhookDelivery

logger = logging.getLogger(__name__)

# kind -> handler(job: RemoteJob) that enqueues the owning app's task with what the signed body
# says. The receiver calls it outside any transaction, after it recorded the delivery: it must
# send the task at once (`webhook_task_send`) and let the broker's error propagate.
WebhookHandler = Callable[[replicate_gateway.RemoteJob], None]
_handlers: dict[str, WebhookHandler] = {}


def register_webhook_handler(kind: str, handler: WebhookHandler) -> None:
    _handlers[kind] = handler


# Each receiver thread keeps a producer on a broker connection of its own: `.delay()` takes one
# from the app's pool and gives it back around every send. Not retried either: a send that fails
# is answered 503 at once and Replicate delivers again. With the Redis client below, a seventh
# of a webhook's CPU (0.2 of 1.4 ms). (kombu producers are not thread-safe, hence one a thread.)
_publishing = threading.local()


def _producer_new(app):
    producer = app.amqp.Producer(app.connection_for_write(), auto_declare=False)
    channel = producer.channel
    if hasattr(channel, "_create_client") and hasattr(channel, "Client"):
        # kombu's Redis channel builds a redis-py client (some 170 response callbacks) for each
        # message it sends; this channel only sends, from one thread: one client does. It draws
        # connections from the channel's pool as before.
        client = channel._create_client()
        channel._create_client = lambda asynchronous=False: client
    return producer


def webhook_task_send(task, args: tuple, kwargs: dict, **options) -> None:
    """Send `task` now on this thread's producer; the broker's error propagates (a kombu
    OperationalError) and the next send starts on a new connection."""
    app = task.app
    if app.conf.task_always_eager:
        task.apply_async(args, kwargs, **options)
        return
    # Keyed by the app's connection pool, which Celery renews when the broker changes (tests).
    pool = app.pool
    producer = getattr(_publishing, "producer", None)
    if producer is None or _publishing.pool is not pool:
        if producer is not None:
            _producer_drop(producer)
        producer = _producer_new(app)
        _publishing.producer, _publishing.pool = producer, pool
    try:
        task.apply_async(args, kwargs, producer=producer, retry=False, **options)
    except BaseException:
        _producer_drop(producer)
        raise


def _producer_drop(producer) -> None:
    _publishing.producer = None
    with contextlib.suppress(Exception):
        producer.connection.release()


def webhook_url(*, kind: str) -> str:
    """The absolute URL Replicate should call for objects of `kind`."""
    return f"{settings.PUBLIC_BASE_URL}{reverse('replicate-webhook')}?{urlencode({'kind': kind})}"


_INSERT_DELIVERY = (
    "INSERT INTO core_webhookdelivery "
    "(webhook_id, remote_id, remote_status, received_at) VALUES (%s, %s, %s, %s) "
    "ON CONFLICT (webhook_id) DO NOTHING"
)
# On PostgreSQL the INSERT does not wait for its WAL to reach the disk, which was most of a
# webhook's time (3-9 ms of fsync on a busy machine, 0.4 ms without). A crash may forget the
# last fraction of a second of deliveries; their tasks are already in the broker, and a replay
# of one is taken as new, which applies a job's state twice: that changes nothing. Sent as one
# message (client-side binding), the two statements run in one implicit transaction, so the
# setting stays with this INSERT.
_INSERT_DELIVERY_ASYNC_COMMIT = "SET LOCAL synchronous_commit TO off; " + _INSERT_DELIVERY


def _async_commit_possible() -> bool:
    # Inside a transaction (a test's), SET LOCAL would last until that transaction's end.
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and not connection.settings_dict.get("OPTIONS", {}).get("server_side_binding")
    )


def webhook_delivery_claim(*, webhook_id: str, remote_id: str, remote_status: str) -> bool:
    """Record a delivery id in one statement; False when it was recorded before."""
    values = [webhook_id, remote_id[:100], remote_status[:20], timezone.now()]
    with connection.cursor() as cursor:
        if _async_commit_possible():
            cursor.execute(_INSERT_DELIVERY_ASYNC_COMMIT, values)
            cursor.nextset()  # from the SET's result to the INSERT's
        else:
            cursor.execute(_INSERT_DELIVERY, values)
        return cursor.rowcount == 1


def webhook_delivery_unclaim(*, webhook_id: str) -> None:
    WebhookDelivery.objects.filter(webhook_id=webhook_id).delete()


def _unavailable() -> JsonResponse:
    response = JsonResponse({"detail": "Try again later.", "code": "unavailable"}, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


@csrf_exempt
@require_POST
@transaction.non_atomic_requests
def replicate_webhook(request):
    kind = request.GET.get("kind", "")
    handler = _handlers.get(kind)
    if handler is None:
        return JsonResponse({"detail": "Unknown webhook kind.", "code": "invalid"}, status=400)
    try:
        job = replicate_gateway.webhook_verify(headers=request.headers, body=request.body)
        delivery_id = replicate_gateway.webhook_id(request.headers)
    except replicate_gateway.WebhookRejected as rejection:
        logger.warning("replicate webhook rejected: %s", rejection)
        return JsonResponse(
            {"detail": "Invalid webhook signature.", "code": "invalid_signature"}, status=401
        )
    except replicate_gateway.ReplicateServiceError:
        # We could not fetch the signing secret: ask Replicate to try again later.
        logger.exception("replicate webhook: signing secret unavailable")
        return JsonResponse({"detail": "Try again later.", "code": "unavailable"}, status=503)

    # The INSERT is the check: a connection that died since the last request fails it, and
    # Django drops the connection at the end of the request (errors_occurred).
    connection.health_check_done = True
    try:
        is_new = webhook_delivery_claim(
            webhook_id=delivery_id, remote_id=job.id, remote_status=job.status
        )
    except DatabaseError as error:
        # Whether the row was written is unknown: the task is sent all the same (applying a
        # job's state twice changes nothing) and Replicate asked to deliver again.
        logger.warning("replicate webhook %s %s: database error %r", kind, job.id, error)
        with contextlib.suppress(*BROKER_ERRORS):
            handler(job)
        return _unavailable()
    if is_new:
        try:
            handler(job)
        except BROKER_ERRORS as error:
            # Unrecorded again: Replicate retries with the same id, accepted once we can enqueue.
            webhook_delivery_unclaim(webhook_id=delivery_id)
            logger.warning(
                "replicate webhook %s %s not accepted, broker down: %r", kind, job.id, error
            )
            return _unavailable()
    # Said once, on the request's own log line.
    request.log_note = f"{kind} {job.id} {job.status} {'new' if is_new else 'replayed'}"
    return HttpResponse(status=200 if is_new else 202)
