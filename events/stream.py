"""`GET /api/v1/events/`: a user's events as Server-Sent Events, read from the events table.

A stream holds a web thread while it is open, so it is bounded: it ends after
EVENTS_STREAM_SECONDS (the `retry:` line tells the client how soon to come back; browsers'
EventSource reconnect by themselves and send `Last-Event-ID`), and a process keeps at most
EVENTS_STREAM_MAX_PER_PROCESS open (past it, 503 with Retry-After). It looks for new events
every EVENTS_STREAM_POLL_SECONDS and sends a comment every EVENTS_STREAM_HEARTBEAT_SECONDS so
that proxies keep the connection. Only the database is needed: no Redis, nothing to degrade.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

from django.conf import settings
from django.http import StreamingHttpResponse
from rest_framework.negotiation import BaseContentNegotiation

from core.exceptions import DomainError
from core.slots import ProcessSlots

from . import selectors
from .models import Event

RETRY_MILLISECONDS = 1000


class FirstRendererNegotiation(BaseContentNegotiation):
    """Ignores Accept (`text/event-stream` would find no renderer): errors are rendered by the
    first renderer, JSON; the stream itself is not a DRF Response."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return (renderers[0], renderers[0].media_type)


class StreamsBusy(DomainError):
    status_code = 503
    code = "service_unavailable"
    retry_after = 5


STREAM_SLOTS = ProcessSlots(lambda: settings.EVENTS_STREAM_MAX_PER_PROCESS)


def event_frame(event: Event) -> str:
    data = json.dumps(event.payload(), separators=(",", ":"), ensure_ascii=False)
    return f"id: {event.id}\nevent: {event.type}\ndata: {data}\n\n"


class _SlotStream:
    """The frames, holding a slot of STREAM_SLOTS until the response is closed (whether or not
    a frame was ever read)."""

    def __init__(self, frames: Iterator[str]):
        self._frames = frames
        self._released = False

    def __iter__(self):
        return self

    def __next__(self) -> str:
        return next(self._frames)

    def close(self) -> None:
        self._frames.close()
        if not self._released:
            self._released = True
            STREAM_SLOTS.release()


def _frames(*, user, position: int) -> Iterator[str]:
    started = time.monotonic()
    deadline = started + settings.EVENTS_STREAM_SECONDS
    heartbeat_every = settings.EVENTS_STREAM_HEARTBEAT_SECONDS
    next_heartbeat = started + heartbeat_every
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    while True:
        events = selectors.event_stream_list(user=user, after_seq=position)
        for event in events:
            position = event.seq
            yield event_frame(event)
        now = time.monotonic()
        if now >= deadline:
            break
        if now >= next_heartbeat:
            yield ": heartbeat\n\n"
            next_heartbeat = now + heartbeat_every
        if not events:
            time.sleep(
                max(
                    0.0,
                    min(settings.EVENTS_STREAM_POLL_SECONDS, deadline - now, next_heartbeat - now),
                )
            )
    yield ": closing; reconnect with Last-Event-ID\n\n"


def event_stream_response(*, user, last_event_id: str | None) -> StreamingHttpResponse:
    if not STREAM_SLOTS.acquire():
        raise StreamsBusy("Too many event streams are open. Try again in a few seconds.")
    try:
        position = selectors.event_stream_position(user=user, last_event_id=last_event_id)
    except BaseException:
        STREAM_SLOTS.release()
        raise
    response = StreamingHttpResponse(
        _SlotStream(_frames(user=user, position=position)),
        content_type="text/event-stream; charset=utf-8",
    )
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # nginx: pass each frame on at once
    return response
