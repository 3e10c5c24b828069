"""Stripe at the network edge: a local HTTP server answering the Checkout Sessions API, and
events signed the way Stripe signs them (`Stripe-Signature: t=…,v1=HMAC-SHA256("t.payload")`).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import itertools
import json
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from tests.http_servers import serve

WEBHOOK_SECRET = "whsec_test_c2VjcmV0LWZvci10ZXN0cw"
SECRET_KEY = "sk_test_51FakeKeyForTheLocalStripe"


@dataclass
class FakeStripe:
    """What the fake received, and what it answers next."""

    base_url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: int | None = None  # answer every request with this status
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)

    def session_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == "/v1/checkout/sessions"]


_counter = itertools.count(1)


def _session_json(form: dict[str, str]) -> dict[str, Any]:
    session_id = f"cs_test_{uuid.uuid4().hex}"
    metadata = {
        key[len("metadata[") : -1]: value
        for key, value in form.items()
        if key.startswith("metadata[")
    }
    return {
        "id": session_id,
        "object": "checkout.session",
        "mode": form.get("mode"),
        "status": "open",
        "payment_status": "unpaid",
        "amount_total": int(form.get("line_items[0][price_data][unit_amount]", 0)),
        "currency": form.get("line_items[0][price_data][currency]"),
        "client_reference_id": form.get("client_reference_id"),
        "customer_email": form.get("customer_email"),
        "metadata": metadata,
        "payment_intent": None,
        "success_url": form.get("success_url"),
        "cancel_url": form.get("cancel_url"),
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        "livemode": False,
        "created": int(time.time()),
    }


@contextlib.contextmanager
def stripe_answered_here(settings) -> Iterator[FakeStripe]:
    """Payments on, with Stripe's API answered by a local server for as long as this lasts."""
    fake, server = start_fake_stripe()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.base_url
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def start_fake_stripe() -> tuple[FakeStripe, ThreadingHTTPServer]:
    fake = FakeStripe()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{next(_counter)}")
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(parse_qsl(self.rfile.read(length).decode(), keep_blank_values=True))
            fake.requests.append(
                {"path": self.path, "form": form, "headers": dict(self.headers.items())}
            )
            if fake.fail_with is not None:
                self._answer(
                    fake.fail_with,
                    {"error": {"type": "invalid_request_error", "message": "Refused by the fake"}},
                )
            elif self.path == "/v1/checkout/sessions":
                session = _session_json(form)
                fake.sessions[session["id"]] = session
                self._answer(200, session)
            else:
                self._answer(404, {"error": {"type": "invalid_request_error", "message": "?"}})

    server = serve(Handler)
    fake.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    return fake, server


# --- Events, signed as Stripe signs them ------------------------------------------------------


def stripe_signature(payload: bytes, *, secret: str = WEBHOOK_SECRET, timestamp=None) -> str:
    signed_at = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode(), f"{signed_at}.".encode() + payload, hashlib.sha256)
    return f"t={signed_at},v1={mac.hexdigest()}"


def event_body(event_type: str, data: dict[str, Any], *, event_id: str | None = None) -> bytes:
    return json.dumps(
        {
            "id": event_id or f"evt_{uuid.uuid4().hex}",
            "object": "event",
            "api_version": "2025-01-27.acacia",
            "created": int(time.time()),
            "livemode": False,
            "pending_webhooks": 1,
            "type": event_type,
            "data": {"object": data},
        }
    ).encode()


def completed_session(purchase, *, payment_status: str = "paid", intent: str | None = None):
    """The `data.object` of checkout.session.completed for a purchase started here."""
    return {
        "id": purchase.stripe_session_id,
        "object": "checkout.session",
        "mode": "payment",
        "status": "complete",
        "payment_status": payment_status,
        "amount_total": purchase.price,
        "currency": purchase.currency,
        "client_reference_id": str(purchase.id),
        "metadata": {"purchase_id": str(purchase.id), "user_id": str(purchase.user.public_id)},
        "payment_intent": intent or f"pi_{purchase.id.hex[:24]}",
    }


def refunded_charge(purchase, *, full: bool = True, intent: str | None = None):
    return {
        "id": f"ch_{purchase.id.hex[:24]}",
        "object": "charge",
        "amount": purchase.price,
        "amount_refunded": purchase.price if full else purchase.price // 2,
        "refunded": full,
        "currency": purchase.currency,
        "payment_intent": intent or f"pi_{purchase.id.hex[:24]}",
        "metadata": {"purchase_id": str(purchase.id), "user_id": str(purchase.user.public_id)},
    }


def created_dispute(purchase):
    return {
        "id": f"dp_{purchase.id.hex[:24]}",
        "object": "dispute",
        "amount": purchase.price,
        "charge": f"ch_{purchase.id.hex[:24]}",
        "payment_intent": f"pi_{purchase.id.hex[:24]}",
        "reason": "fraudulent",
        "status": "needs_response",
    }
