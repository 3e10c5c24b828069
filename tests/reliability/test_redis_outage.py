"""Redis stopped and started again: reads stay up, writes answer 503, no webhook is lost.

The test starts a Redis of its own (`redis-server` on a free port, no persistence) and points
both the cache (database 1, core.cache.FailOpenRedisCache) and the Celery broker (database 0)
of this process at it. No worker runs: what was enqueued is read from the broker's queue in
Redis. While Redis is down:

- API reads answer 200 (the throttles count in the process's memory);
- a write that must enqueue (a generation) answers 503 with Retry-After, and leaves no
  generation and no credit reservation behind;
- a signed webhook answers 503 and records no delivery, so that Replicate's retry of it (the
  same `webhook-id`) is accepted once Redis is back, and its task is in the queue.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import shutil
import socket
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import redis
from django.core.cache import cache
from django.test import Client
from kombu.exceptions import OperationalError
from redis.backoff import NoBackoff
from redis.retry import Retry

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_grant
from config.celery import app as celery_app
from core.api import exception_handler as api_exception_handler
from core.broker import BrokerUnavailable, broker_ready_check
from core.models import WebhookDelivery
from gallery.models import Generation

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

START_TIMEOUT = 10.0
WEBHOOK_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
REFRESH_TASK = "core.remote_jobs.tasks.remote_job_refresh_task"
SUBMIT_TASK = "core.remote_jobs.tasks.remote_job_submit_task"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class RedisServer:
    """A redis-server process of this test's own, stopped and started on the same port."""

    def __init__(self, binary: str, folder: Path):
        self.binary = binary
        self.folder = folder
        self.port = _free_port()
        self.process: subprocess.Popen | None = None

    def url(self, database: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def client(self, database: int) -> redis.Redis:
        # No retries: redis-py's default backs off for seconds before it says Redis is down.
        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            db=database,
            socket_timeout=2,
            retry=Retry(NoBackoff(), 0),
        )

    def start(self) -> None:
        options = f"--port {self.port} --bind 127.0.0.1 --appendonly no --daemonize no".split()
        with open(self.folder / "redis.log", "ab") as log:
            self.process = subprocess.Popen(
                [self.binary, *options, "--save", "", "--dir", str(self.folder)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if self.client(0).ping():
                    return
            except redis.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log_text = (self.folder / "redis.log").read_text(errors="replace")
                raise RuntimeError(f"redis-server did not start:\n{log_text[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        self.process.wait(timeout=START_TIMEOUT)
        with pytest.raises(redis.ConnectionError):
            self.client(0).ping()

    def queued(self, queue: str) -> list[tuple[str, list]]:
        """(task name, args) of each message waiting in `queue`, oldest first."""
        messages = []
        for raw in reversed(self.client(0).lrange(queue, 0, -1)):  # kombu LPUSHes, BRPOPs
            message = json.loads(raw)
            args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
            messages.append((message["headers"]["task"], args))
        return messages


@pytest.fixture
def redis_server(tmp_path):
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(binary, tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _use_producers_of_the_current_broker() -> None:
    # Celery keeps its connection and producer pools for the app's life: after broker_url
    # changes, drop them (not close: kombu shares them by URL with the rest of the session).
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def on_private_redis(redis_server, settings, monkeypatch):
    """Cache and broker of this process on the test's Redis, in two databases as in production.

    Returns the queue tasks are sent to."""
    settings.CACHES = {
        "default": {
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": redis_server.url(1),
            # Redis is asked again soon after a failure, so that the test sees it come back.
            "OPTIONS": {"RETRY_SECONDS": 0.2},
        }
    }
    cache.clear()
    settings.REPLICATE_WEBHOOK_SECRET = WEBHOOK_SECRET
    for name in ("CELERY_BROKER_URL", "CELERY_BROKER_WRITE_URL"):
        monkeypatch.delenv(name, raising=False)  # Celery prefers them to its configuration
    queue = f"outage-{uuid.uuid4().hex[:12]}"
    conf = celery_app.conf
    keys = ("broker_url", "broker_transport_options", "task_always_eager", "task_default_queue")
    previous = {key: conf[key] for key in keys}
    conf.update(
        broker_url=redis_server.url(0),
        broker_transport_options={"visibility_timeout": 3600},
        task_always_eager=False,
        task_default_queue=queue,
    )
    _use_producers_of_the_current_broker()
    try:
        yield queue
    finally:
        conf.update(previous)
        _use_producers_of_the_current_broker()


def _webhook(client: Client, webhook_id: str, body: dict):
    """A delivery signed like Replicate's; a retry has the same id and a fresh timestamp."""
    raw = json.dumps(body).encode()
    timestamp = str(int(time.time()))
    key = base64.b64decode(WEBHOOK_SECRET.split("_", 1)[1])
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + raw, hashlib.sha256).digest()
    return client.post(
        "/webhooks/replicate/?kind=training",
        data=raw,
        content_type="application/json",
        HTTP_WEBHOOK_ID=webhook_id,
        HTTP_WEBHOOK_TIMESTAMP=timestamp,
        HTTP_WEBHOOK_SIGNATURE="v1," + base64.b64encode(digest).decode(),
    )


def _reads_answer(client) -> None:
    for url in ("/api/v1/images/", "/api/v1/me/", "/api/v1/generations/"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.content[:300])


def test_reads_stay_up_writes_answer_503_and_no_webhook_is_lost(
    on_private_redis, redis_server, owner, as_user
):
    started = time.monotonic()
    queue = on_private_redis
    credits_grant(user=owner, amount=100, reason="Test credits")
    client = as_user(owner)
    receiver = Client(raise_request_exception=False)

    # Redis up: reads, a write that enqueues its task, the cache in its own database.
    _reads_answer(client)
    created = client.post("/api/v1/generations/", {"prompt": "a red bicycle"}, format="json")
    assert created.status_code == 201, created.json()
    generation_id = created.json()["generations"][0]["id"]
    assert redis_server.queued(queue) == [(SUBMIT_TASK, ["prediction", generation_id])]
    cache.set("outage:probe", "cached")
    assert redis_server.client(1).dbsize() > 0  # throttle counts and the probe
    assert redis_server.client(0).keys("*throttle*") == []  # none in the broker's database
    balance = credit_balance(user=owner)

    redis_server.stop()

    # Reads keep answering.
    _reads_answer(client)
    # A write that must enqueue is refused whole: 503, Retry-After, nothing written.
    refused = client.post("/api/v1/generations/", {"prompt": "a blue bicycle"}, format="json")
    assert refused.status_code == 503, refused.content[:500]
    assert int(refused["Retry-After"]) > 0
    assert refused.json()["code"] == "service_unavailable"
    assert Generation.objects.count() == 1
    assert CreditEntry.objects.filter(kind="reserve").count() == 1
    assert credit_balance(user=owner) == balance
    # A webhook that cannot be enqueued is not recorded: Replicate will retry it.
    delivery = {"id": "tr_outage_1", "status": "succeeded", "model": "avatars/me"}
    during = _webhook(receiver, "msg_outage_1", delivery)
    assert during.status_code == 503, during.content[:500]
    assert during["Retry-After"]
    assert not WebhookDelivery.objects.exists()

    redis_server.start()  # empty: nothing was persisted

    # Replicate's retry of the same delivery is accepted, and its task is enqueued.
    retried = _webhook(receiver, "msg_outage_1", delivery)
    assert retried.status_code == 200, retried.content[:500]
    assert WebhookDelivery.objects.filter(webhook_id="msg_outage_1").count() == 1
    assert redis_server.queued(queue) == [(REFRESH_TASK, ["training", "tr_outage_1"])]
    # Once accepted, a further retry is acknowledged and enqueues nothing more.
    assert _webhook(receiver, "msg_outage_1", delivery).status_code == 202
    assert len(redis_server.queued(queue)) == 1
    # Writes work again, and the cache is back on Redis.
    _reads_answer(client)
    again = client.post("/api/v1/generations/", {"prompt": "a green bicycle"}, format="json")
    assert again.status_code == 201, again.content[:500]
    assert redis_server.queued(queue)[-1][0] == SUBMIT_TASK
    time.sleep(0.25)  # past RETRY_SECONDS: the next cache call asks Redis again
    cache.set("outage:probe", "back")
    assert redis_server.client(1).exists(cache.make_key("outage:probe"))

    assert time.monotonic() - started < 30


def test_the_broker_check_refuses_at_once_while_the_broker_is_down(on_private_redis, redis_server):
    broker_ready_check()  # up: nothing to say
    redis_server.stop()
    started = time.monotonic()
    with pytest.raises(BrokerUnavailable) as refused:
        broker_ready_check()
    assert time.monotonic() - started < 2
    assert refused.value.status_code == 503
    assert refused.value.retry_after > 0
    redis_server.start()
    broker_ready_check()


def test_a_task_lost_after_commit_is_still_a_503_with_retry_after():
    # The broker went down between a service's check and its commit: no 500, no traceback.
    response = api_exception_handler(OperationalError("Connection refused"), {})
    assert response.status_code == 503
    assert int(response["Retry-After"]) > 0
    assert response.data["code"] == "service_unavailable"
