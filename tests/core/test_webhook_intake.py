"""The webhook intake's hot path, and a signed body applied as it is.

The receiver records a delivery with one INSERT … ON CONFLICT DO NOTHING in autocommit (no
savepoint, no health check), enqueues once, and logs one line. The body of a signed webhook is
applied without reading the job from Replicate again, unless it lacks what its status needs
or no row claims the job.
"""

import base64
import hashlib
import hmac
import json
import logging
import secrets
import socket
import time

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError

from core import webhooks as receiver
from core.models import WebhookDelivery
from core.replicate_gateway import RemoteJob, ReplicateUnavailable
from events.models import Event
from gallery.models import Generation
from gallery.services import generation_jobs
from tests.gallery.factories import make_generation

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def replicate_unreachable(settings):
    """Any read from Replicate fails at once: what a test sees applied came from the body."""
    settings.REPLICATE_WEBHOOK_SECRET = SECRET
    settings.REPLICATE_BASE_URL = f"http://127.0.0.1:{_closed_port()}"
    settings.REPLICATE_RETRY_BASE_SECONDS = 0.0


def _post(payload: dict, *, webhook_id: str, kind: str = "prediction"):
    body = json.dumps(payload).encode()
    timestamp = str(int(time.time()))
    key = base64.b64decode(SECRET.split("_", 1)[1])
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return Client(raise_request_exception=False).post(
        f"/webhooks/replicate/?kind={kind}",
        data=body,
        content_type="application/json",
        HTTP_WEBHOOK_ID=webhook_id,
        HTTP_WEBHOOK_TIMESTAMP=timestamp,
        HTTP_WEBHOOK_SIGNATURE="v1," + base64.b64encode(digest).decode(),
    )


@pytest.fixture
def recorded(replicate_unreachable, monkeypatch):
    calls: list[RemoteJob] = []
    monkeypatch.setitem(receiver._handlers, "prediction", calls.append)
    return calls


def test_a_delivery_is_one_insert_without_savepoint_or_health_check(recorded):
    payload = {"id": "p_intake_1", "status": "processing"}
    with CaptureQueriesContext(connection) as queries:
        assert _post(payload, webhook_id="msg_intake_1").status_code == 200
    assert len(queries) == 1
    sql = queries[0]["sql"]
    assert sql.startswith("INSERT INTO core_webhookdelivery")  # in a test's transaction
    assert "ON CONFLICT" in sql
    with CaptureQueriesContext(connection) as queries:
        assert _post(payload, webhook_id="msg_intake_1").status_code == 202  # a retry
    assert len(queries) == 1
    assert [job.id for job in recorded] == ["p_intake_1"]  # enqueued once
    assert WebhookDelivery.objects.get().remote_status == "processing"


@pytest.mark.django_db(transaction=True)
def test_in_autocommit_the_insert_alone_skips_waiting_for_the_disk(recorded):
    with CaptureQueriesContext(connection) as queries:
        response = _post({"id": "p_intake_4", "status": "processing"}, webhook_id="msg_intake_4")
    assert response.status_code == 200
    assert [query["sql"][:55] for query in queries] == [
        "SET LOCAL synchronous_commit TO off; INSERT INTO core_w"
    ]
    assert (
        _post({"id": "p_intake_4", "status": "processing"}, webhook_id="msg_intake_4").status_code
        == 202
    )
    assert WebhookDelivery.objects.filter(webhook_id="msg_intake_4").count() == 1
    # The setting lasted for that INSERT only, not for the connection.
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"


def test_a_delivery_the_broker_refuses_is_unrecorded_and_accepted_on_retry(
    replicate_unreachable, monkeypatch
):
    def broker_down(job):
        raise OperationalError("connection refused")

    monkeypatch.setitem(receiver._handlers, "prediction", broker_down)
    payload = {"id": "p_intake_2", "status": "succeeded", "output": ["https://x/1.webp"]}
    refused = _post(payload, webhook_id="msg_intake_2")
    assert refused.status_code == 503
    assert refused["Retry-After"]
    assert not WebhookDelivery.objects.exists()
    calls: list[RemoteJob] = []
    monkeypatch.setitem(receiver._handlers, "prediction", calls.append)
    assert _post(payload, webhook_id="msg_intake_2").status_code == 200
    assert [job.output for job in calls] == [["https://x/1.webp"]]


def test_a_delivery_logs_one_line(recorded, caplog):
    with caplog.at_level(logging.INFO):
        _post({"id": "p_intake_3", "status": "processing"}, webhook_id="msg_intake_3")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("core.")]
    assert len(lines) == 1
    assert "POST /webhooks/replicate/ 200" in lines[0]
    assert "p_intake_3 processing new" in lines[0]


def test_a_failed_webhook_is_applied_from_its_body_once(replicate_unreachable, owner):
    generation = make_generation(owner, status=Generation.Status.STARTING, replicate_id="p_body")
    failed = {"id": "p_body", "status": "failed", "error": "CUDA out of memory"}
    # The real handler, run inline: Replicate is unreachable, so nothing was read from it.
    assert _post(failed, webhook_id="msg_body_1").status_code == 200
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert _post(failed, webhook_id="msg_body_1").status_code == 202
    # A late `start` webhook, with a new id, changes nothing.
    late = {"id": "p_body", "status": "processing"}
    assert _post(late, webhook_id="msg_body_0").status_code == 200
    generation.refresh_from_db()
    assert generation.status == Generation.Status.FAILED
    assert Event.objects.filter(type="generation.failed", owner=owner).count() == 1


def test_a_processing_webhook_moves_the_job_without_a_read(replicate_unreachable, owner):
    make_generation(owner, status=Generation.Status.STARTING, replicate_id="p_run")
    job = generation_jobs.apply_reported(
        remote=RemoteJob(id="p_run", status="processing", started_at="2026-01-01T00:00:00Z")
    )
    assert job.status == Generation.Status.PROCESSING
    assert job.started_at is not None


def test_a_success_without_outputs_is_read_again(replicate_unreachable, owner):
    make_generation(owner, status=Generation.Status.PROCESSING, replicate_id="p_bare")
    with pytest.raises(ReplicateUnavailable):  # it asked Replicate, which did not answer
        generation_jobs.apply_reported(remote=RemoteJob(id="p_bare", status="succeeded"))
    assert Generation.objects.get(replicate_id="p_bare").status == Generation.Status.PROCESSING


def test_a_job_no_row_claims_is_read_again(replicate_unreachable):
    with pytest.raises(ReplicateUnavailable):
        generation_jobs.apply_reported(remote=RemoteJob(id="p_stray", status="processing"))
