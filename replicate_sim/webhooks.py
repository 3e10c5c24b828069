"""Webhook delivery: Standard Webhooks signatures, per-object ordering, retries and faults.

Every message is a POST of the object's JSON as it was when the event happened. Messages of one
object go out in order from one thread of their own (so a slow receiver delays only that object).
Only the terminal (`completed`) message is retried, with exponential back-off until
`webhook_retry_window` seconds after its first attempt, like Replicate's "last retry about one
minute after completion". Redirects are not followed. Every attempt is recorded for
`GET /_sim/webhooks`.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import http.client
import json
import queue
import random
import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .ids import isoformat, webhook_message_id
from .settings import RuntimeConfig

EVENTS = ("start", "output", "logs", "completed")
DEFAULT_EVENTS = ("output", "completed")
THROTTLED_EVENTS = frozenset({"output", "logs"})
USER_AGENT = "replicate-sim-webhook/1.0"


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key: base64-decoded part after `whsec_` (as replicate.webhooks.validate does)."""
    prefix, _, encoded = secret.partition("_")
    if prefix != "whsec" or not encoded:
        raise ValueError("webhook secret must look like whsec_<base64>")
    return base64.b64decode(encoded)


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """`webhook-signature` header value for these exact body bytes."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def retry_delays(base: float, window: float) -> list[float]:
    """Gaps between retries: base, 2*base, 4*base... the last one cut so they add up to window."""
    delays: list[float] = []
    total, delay = 0.0, base
    while total < window - 1e-9:
        step = min(delay, window - total)
        delays.append(step)
        total += step
        delay *= 2
    return delays


@dataclass
class Message:
    message_id: str
    url: str
    body: bytes
    event: str
    object_id: str
    object_kind: str
    object_status: str
    terminal: bool
    emitted_at: float  # when the event happened (the throttle applies to this, not to delivery)


@dataclass
class _Session:
    object_id: str
    messages: queue.Queue[Message] = field(default_factory=queue.Queue)
    thread: threading.Thread | None = None


class WebhookDispatcher:
    def __init__(self, secret: str, config: RuntimeConfig, *, log: bool = True) -> None:
        secret_key_bytes(secret)  # fail at start-up rather than at the first delivery
        self.secret = secret
        self.config = config
        self.log = log
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._last_throttled: dict[tuple[str, str], float] = {}
        self._attempts: deque[dict[str, Any]] = deque(maxlen=5000)
        self._attempt_seq = 0
        self._stop = threading.Event()
        self._random = random.Random()

    # --- public API -----------------------------------------------------------------------------

    def emit(self, *, job: Any, event: str, body: dict[str, Any]) -> None:
        """Queue `event` for every webhook of `job` that asked for it.

        `job` is a store.JobRecord; `body` its API JSON at this moment.
        """
        targets: list[str] = []
        if job.webhook:
            wanted = job.webhook_events_filter or DEFAULT_EVENTS
            if event in wanted:
                targets.append(job.webhook)
        if job.webhook_completed and event == "completed":
            targets.append(job.webhook_completed)
        if event == "completed":
            with self._lock:
                for key in [k for k in self._last_throttled if k[0] == job.id]:
                    del self._last_throttled[key]
        if not targets:
            return
        payload = json.dumps(body, separators=(",", ":")).encode()
        now = time.monotonic()
        for url in targets:
            if event in THROTTLED_EVENTS:
                key = (job.id, url)
                with self._lock:
                    last = self._last_throttled.get(key)
                    if last is not None and now - last < self.config.webhook_throttle:
                        continue  # the next one (or `completed`) carries the newer state
                    self._last_throttled[key] = now
            message = Message(
                message_id=webhook_message_id(),
                url=url,
                body=payload,
                event=event,
                object_id=job.id,
                object_kind=job.kind,
                object_status=body.get("status", ""),
                terminal=event == "completed",
                emitted_at=time.time(),
            )
            self._enqueue(message)

    def attempts(self, object_id: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            records = list(self._attempts)
        if object_id:
            records = [r for r in records if r["object_id"] == object_id]
        return records

    def clear_attempts(self) -> None:
        with self._lock:
            self._attempts.clear()

    def stop(self) -> None:
        self._stop.set()

    # --- delivery -------------------------------------------------------------------------------

    def _enqueue(self, message: Message) -> None:
        with self._lock:
            session = self._sessions.get(message.object_id)
            if session is None:
                session = _Session(message.object_id)
                session.thread = threading.Thread(
                    target=self._run_session,
                    args=(session,),
                    name=f"sim-webhooks-{message.object_id}",
                    daemon=True,
                )
                self._sessions[message.object_id] = session
                session.messages.put(message)
                session.thread.start()
            else:
                session.messages.put(message)

    def _run_session(self, session: _Session) -> None:
        held: list[Message] = []
        while not self._stop.is_set():
            try:
                message = session.messages.get(timeout=1.0)
            except queue.Empty:
                if held:
                    continue  # reordering: keep waiting for the terminal message
                with self._lock:
                    if session.messages.empty():
                        self._sessions.pop(session.object_id, None)
                        return
                continue
            if self.config.reorder_webhooks and not message.terminal:
                held.append(message)
                continue
            self._deliver(message)
            if message.terminal:
                for earlier in held:
                    self._deliver(earlier)
                held.clear()

    def _deliver(self, message: Message) -> None:
        if self._random.random() < self.config.drop_webhooks:
            self._record(message, attempt=1, copy=1, dropped=True)
            return
        copies = 2 if self.config.duplicate_webhooks else 1
        for copy in range(1, copies + 1):
            self._deliver_with_retries(message, copy)

    def _deliver_with_retries(self, message: Message, copy: int) -> None:
        delays = (
            retry_delays(self.config.webhook_backoff, self.config.webhook_retry_window)
            if message.terminal
            else []
        )
        attempt = 1
        while True:
            ok = self._attempt(message, attempt, copy)
            if ok or attempt > len(delays) or self._stop.is_set():
                return
            if self._stop.wait(delays[attempt - 1]):
                return
            attempt += 1

    def _attempt(self, message: Message, attempt: int, copy: int) -> bool:
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": message.message_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(self.secret, message.message_id, timestamp, message.body),
        }
        status: int | None = None
        error: str | None = None
        try:
            status = _post(message.url, message.body, headers, self.config.webhook_timeout)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        ok = status is not None and 200 <= status < 300
        self._record(message, attempt=attempt, copy=copy, status=status, error=error, delivered=ok)
        if self.log and not ok:
            print(
                f"replicate-sim: webhook {message.event} for {message.object_id} to "
                f"{message.url} failed (attempt {attempt}): {error or status}",
                file=sys.stderr,
                flush=True,
            )
        return ok

    def _record(
        self,
        message: Message,
        *,
        attempt: int,
        copy: int,
        status: int | None = None,
        error: str | None = None,
        delivered: bool = False,
        dropped: bool = False,
    ) -> None:
        now = time.time()
        with self._lock:
            self._attempt_seq += 1
            self._attempts.append(
                {
                    "seq": self._attempt_seq,
                    "webhook_id": message.message_id,
                    "object_id": message.object_id,
                    "object_kind": message.object_kind,
                    "event": message.event,
                    "object_status": message.object_status,
                    "url": message.url,
                    "attempt": attempt,
                    "copy": copy,
                    "emitted_at": message.emitted_at,
                    "sent_at": isoformat(now),
                    "timestamp": now,
                    "response_status": status,
                    "error": error,
                    "delivered": delivered,
                    "dropped": dropped,
                }
            )


def _post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int:
    """POST without following redirects (http.client never does); returns the status code."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"unsupported webhook URL {url!r}")
    connection_class = (
        http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    )
    connection = connection_class(parts.hostname, parts.port, timeout=timeout)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        with contextlib.suppress(OSError, http.client.HTTPException):
            response.read(65536)
        return response.status
    finally:
        connection.close()
