"""The webhook receiver's own lane: the middleware it skips, and its per-thread producer.

The producer tests send to the Redis of REDIS_URL (a queue of their own, no worker) and read
what arrived there, as a worker would.
"""

import base64
import json
import os
import threading
import time
import uuid

import pytest
import redis
from django.test import Client
from kombu.exceptions import OperationalError

from config.celery import app as celery_app
from core import webhooks as receiver
from core.models import WebhookDelivery
from core.remote_jobs.tasks import remote_job_refresh_task

from .test_webhook_intake import SECRET, _post, replicate_unreachable  # noqa: F401

pytestmark = pytest.mark.django_db

REFRESH_TASK = "core.remote_jobs.tasks.remote_job_refresh_task"


def test_a_webhook_skips_the_site_middleware_but_keeps_its_id_size_cap_and_security(
    replicate_unreachable,  # noqa: F811
    monkeypatch,
    settings,
):
    calls = []
    monkeypatch.setitem(receiver._handlers, "prediction", calls.append)
    answer = _post({"id": "p_lane_1", "status": "processing"}, webhook_id="msg_lane_1")
    assert answer.status_code == 200
    assert [job.id for job in calls] == ["p_lane_1"]
    assert answer["X-Request-ID"]  # RequestIdMiddleware
    assert answer["X-Content-Type-Options"] == "nosniff"  # SecurityMiddleware
    # What the site's other middleware add to every other answer.
    page = Client().get("/healthz")
    assert page.has_header("X-Frame-Options")
    assert not answer.has_header("X-Frame-Options")
    assert not answer.has_header("Vary")

    # The size cap comes first, and the view's own method check stays.
    limit = settings.REQUEST_MAX_BYTES
    settings.REQUEST_MAX_BYTES = 64
    big = _post({"id": "p_lane_2", "status": "processing", "logs": "x" * 200}, webhook_id="m2")
    assert big.status_code == 413
    settings.REQUEST_MAX_BYTES = limit
    assert Client().get("/webhooks/replicate/?kind=prediction").status_code == 405
    # HTTPS is still required where the site requires it.
    settings.SECURE_SSL_REDIRECT = True
    redirected = _post({"id": "p_lane_3", "status": "processing"}, webhook_id="msg_lane_3")
    assert redirected.status_code == 301
    assert redirected["Location"].startswith("https://")
    assert WebhookDelivery.objects.filter(webhook_id="msg_lane_3").count() == 0


@pytest.fixture
def live_broker(monkeypatch):
    """Tasks really sent, to a queue of this test's own on REDIS_URL's Redis."""
    url = os.environ.get("REDIS_URL")
    if not url:
        pytest.fail("REDIS_URL is needed: the producer is tested against a real broker")
    for name in ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL"):
        monkeypatch.delenv(name, raising=False)
    queue = f"lane-{uuid.uuid4().hex[:12]}"
    conf = celery_app.conf
    keys = ("broker_url", "task_always_eager", "task_default_queue")
    previous = {key: conf[key] for key in keys}
    conf.update(broker_url=url, task_always_eager=False, task_default_queue=queue)
    celery_app._pool = None  # the producers of this broker (see test_redis_outage)
    celery_app.amqp._producer_pool = None
    client = redis.Redis.from_url(url)
    try:
        yield client, queue
    finally:
        client.delete(queue)
        conf.update(previous)
        celery_app._pool = None
        celery_app.amqp._producer_pool = None


def _queued(client, queue) -> list[tuple[str, list, dict]]:
    messages = []
    for raw in reversed(client.lrange(queue, 0, -1)):
        message = json.loads(raw)
        args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        messages.append((message["headers"]["task"], args, kwargs))
    return messages


def _send(replicate_id: str) -> None:
    receiver.webhook_task_send(
        remote_job_refresh_task, ("prediction", replicate_id), {"reported": {"status": "failed"}}
    )


def test_sends_from_a_thread_share_its_producer_and_all_arrive(live_broker):
    client, queue = live_broker
    _send("p_a")
    first = receiver._publishing.producer
    _send("p_b")
    assert receiver._publishing.producer is first
    producers = []

    def other_thread():
        _send("p_c")
        producers.append(receiver._publishing.producer)

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert producers and producers[0] is not first  # kombu producers are not thread-safe
    queued = _queued(client, queue)
    assert sorted(args[1] for _, args, _ in queued) == ["p_a", "p_b", "p_c"]
    assert {task for task, _, _ in queued} == {REFRESH_TASK}
    assert all(kwargs == {"reported": {"status": "failed"}} for _, _, kwargs in queued)


def test_a_failed_send_raises_at_once_and_the_next_one_starts_afresh(live_broker, monkeypatch):
    client, queue = live_broker
    _send("p_before")
    broken = receiver._publishing.producer

    def refused(*args, **kwargs):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    # The producer's Redis connections fail as a dead server's do.
    monkeypatch.setattr(broken.channel.pool, "get_connection", refused)
    started = time.monotonic()
    with pytest.raises(OperationalError):
        _send("p_refused")
    assert time.monotonic() - started < 2  # not retried: the receiver answers 503 at once
    _send("p_after")
    assert receiver._publishing.producer is not broken
    assert [args[1] for _, args, _ in _queued(client, queue)] == ["p_before", "p_after"]


def test_a_signed_webhook_reaches_the_broker_through_the_lane(
    live_broker,
    replicate_unreachable,  # noqa: F811
):
    client, queue = live_broker
    answer = _post({"id": "p_lane_live", "status": "processing"}, webhook_id="msg_lane_live")
    assert answer.status_code == 200
    replayed = _post({"id": "p_lane_live", "status": "processing"}, webhook_id="msg_lane_live")
    assert replayed.status_code == 202
    queued = _queued(client, queue)
    assert [(task, args) for task, args, _ in queued] == [
        (REFRESH_TASK, ["prediction", "p_lane_live"])
    ]
    assert queued[0][2]["reported"]["status"] == "processing"
