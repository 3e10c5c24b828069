"""Malformed webhook headers are refused with a 4xx, never a 500, and nothing is recorded.

The verifier of the `replicate` client raises more than its own `WebhookValidationError`: `int()`
on the timestamp raises ValueError, `base64.b64decode` on the signature binascii.Error, and it
accepts a signature of any version. Each variant below goes through the real receiver.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time

import pytest
from django.test import Client

from core import replicate_gateway as gateway
from core import webhooks as receiver
from core.models import WebhookDelivery

pytestmark = pytest.mark.django_db

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
BODY = json.dumps({"id": "tr_headers_1", "status": "succeeded", "model": "a/b"}).encode()


def _signature(webhook_id: str, timestamp: str, body: bytes, *, version: str = "v1") -> str:
    key = base64.b64decode(SECRET.split("_", 1)[1])
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return f"{version}," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def _valid_headers(body: bytes = BODY, *, webhook_id: str = "msg_valid_1") -> dict[str, str]:
    timestamp = str(int(time.time()))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": _signature(webhook_id, timestamp, body),
    }


@pytest.fixture
def handled(settings, monkeypatch):
    """The training kind's handler replaced by a recorder: what would have been enqueued."""
    settings.REPLICATE_WEBHOOK_SECRET = SECRET
    calls: list[str] = []
    monkeypatch.setitem(receiver._handlers, "training", lambda job: calls.append(job.id))
    return calls


def _post(headers: dict[str, str], body: bytes = BODY):
    environ = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
    return Client(raise_request_exception=False).post(
        "/webhooks/replicate/?kind=training",
        data=body,
        content_type="application/json",
        **environ,
    )


def _now() -> str:
    return str(int(time.time()))


def _with(**changes: str) -> dict[str, str]:
    headers = _valid_headers()
    for name, value in changes.items():
        key = name.replace("_", "-")
        if value is None:
            headers.pop(key)
        else:
            headers[key] = value
    return headers


def _signed(webhook_id: str, timestamp: str, *, version: str = "v1", body: bytes = BODY):
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": _signature(webhook_id, timestamp, body, version=version),
    }


MALFORMED = {
    "no headers at all": {},
    "missing id": _with(webhook_id=None),
    "missing timestamp": _with(webhook_timestamp=None),
    "missing signature": _with(webhook_signature=None),
    "empty id": _with(webhook_id=""),
    "empty timestamp": _with(webhook_timestamp=""),
    "empty signature": _with(webhook_signature=""),
    "the issue's header": _with(webhook_timestamp="soon", webhook_signature="v1,abc"),
    "non-numeric timestamp": _with(webhook_timestamp="soon"),
    "float timestamp": _with(webhook_timestamp="1.7e9"),
    "negative timestamp": _with(webhook_timestamp="-1"),
    "timestamp with spaces": {
        **_signed("msg_space", f" {_now()} "),
    },
    "timestamp in other digits": _signed(
        "msg_digits", "".join(chr(0x0660 + int(d)) for d in _now())
    ),
    "huge timestamp": _with(webhook_timestamp="9" * 30),
    "timestamp past int parsing": _with(webhook_timestamp="9" * 5000),
    "signature without comma": _with(webhook_signature="v1abc"),
    "signature not base64 (padding)": _with(webhook_signature="v1,abc"),
    "signature not base64 (characters)": _with(webhook_signature="v1,@@@@"),
    "signature with non-ASCII": _with(webhook_signature="v1,é=="),
    "signature of the wrong version": _signed("msg_v2", _now(), version="v2"),
    "signature with no version": _signed("msg_nov", _now(), version=""),
    "very long signature": _with(webhook_signature="v1," + "A" * 200_000),
    "very many signatures": _with(webhook_signature=" ".join(["v1,abcd"] * 20_000)),
    "very long id": _signed("m" * 5000, _now()),
}


@pytest.mark.parametrize("headers", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_header_is_refused_with_a_4xx(handled, headers):
    response = _post(headers)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response.json()["code"]
    assert handled == []
    assert not WebhookDelivery.objects.exists()


BAD_BODIES = {
    "non-UTF-8 body": b'{"id": "tr_1", "status": "succeeded", "x": "\xff\xfe"}',
    "empty body": b"",
    "not JSON": b"id=tr_1",
    "JSON list": b'[{"id": "tr_1", "status": "succeeded"}]',
    "JSON with a wrong-typed version": b'{"id": "tr_1", "status": "succeeded", "version": 5}',
    "deeply nested JSON": b'{"id": "tr_1", "status": "succeeded", "input": '
    + b"[" * 100_000
    + b"]" * 100_000
    + b"}",
}


@pytest.mark.parametrize("body", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_a_correctly_signed_but_malformed_body_is_refused_with_a_4xx(handled, body):
    # Signed over the raw bytes, as a sender would (latin-1 keeps every byte in the signature).
    timestamp = _now()
    key = base64.b64decode(SECRET.split("_", 1)[1])
    digest = hmac.new(key, b"msg_body." + timestamp.encode() + b"." + body, hashlib.sha256)
    headers = {
        "webhook-id": "msg_body",
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest.digest()).decode(),
    }
    response = _post(headers, body)
    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert handled == []
    assert not WebhookDelivery.objects.exists()


def test_a_valid_delivery_still_passes_and_is_handled_once(handled):
    headers = _valid_headers()
    assert _post(headers).status_code == 200
    assert _post(headers).status_code == 202  # the same delivery again: acknowledged, ignored
    assert handled == ["tr_headers_1"]
    assert WebhookDelivery.objects.get().remote_id == "tr_headers_1"


def test_a_valid_signature_among_malformed_ones_is_accepted(handled):
    headers = _valid_headers()
    headers["webhook-signature"] = f"v2,zzzz v1,abc {headers['webhook-signature']}"
    assert _post(headers).status_code == 200
    assert handled == ["tr_headers_1"]


def test_a_secret_we_cannot_use_is_our_problem_not_the_senders(settings, handled, caplog):
    """A misconfigured secret is a 503 (Replicate retries later), and it is never logged."""
    settings.REPLICATE_WEBHOOK_SECRET = "whsec_not base64!"
    response = _post(_valid_headers())
    assert response.status_code == 503
    assert "not base64" not in caplog.text
    assert handled == []


def test_the_gateway_raises_only_webhook_rejected_for_bad_headers(settings):
    settings.REPLICATE_WEBHOOK_SECRET = SECRET
    for name, headers in MALFORMED.items():
        try:
            gateway.webhook_verify(headers=headers, body=BODY)
        except gateway.WebhookRejected:
            continue
        raise AssertionError(f"{name}: accepted")
