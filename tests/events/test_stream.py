"""GET /api/v1/events/: the caller's events as Server-Sent Events, resumable with Last-Event-ID,
with heartbeats, and bounded in time and in streams per process."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from accounts.services import user_tokens_issue
from events.services import event_publish
from events.stream import STREAM_SLOTS

pytestmark = pytest.mark.django_db

URL = "/api/v1/events/"


@pytest.fixture(autouse=True)
def _fast_stream(settings):
    settings.EVENTS_STREAM_POLL_SECONDS = 0.02
    settings.EVENTS_STREAM_SECONDS = 1


def _close(response) -> None:
    """Read a stream to its end (EVENTS_STREAM_SECONDS): the test client then closes it as a
    server would, the test's database connection left open."""
    for _chunk in response.streaming_content:
        pass


def _frames(response, count: int, timeout: float = 5.0) -> list[str]:
    """The next `count` frames (separated by a blank line) of a streaming response."""
    frames: list[str] = []
    buffer = ""
    deadline = time.monotonic() + timeout
    content = response.streaming_content
    while len(frames) < count:
        assert time.monotonic() < deadline, frames
        buffer += next(content).decode()
        while "\n\n" in buffer and len(frames) < count:
            frame, buffer = buffer.split("\n\n", 1)
            frames.append(frame)
    return frames


def _event(frame: str) -> dict:
    lines = dict(line.split(": ", 1) for line in frame.splitlines())
    data = json.loads(lines["data"])
    assert lines["id"] == data["id"] and lines["event"] == data["type"]
    return data


def test_new_events_of_the_caller_arrive_as_they_happen(owner, other_user, as_user):
    event_publish(user=owner, type="training.succeeded", data={"id": "before"})  # not resent
    response = as_user(owner).get(URL, HTTP_ACCEPT="text/event-stream")
    try:
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/event-stream")
        assert response["Cache-Control"] == "no-cache"
        assert _frames(response, 1) == ["retry: 1000"]
        event_publish(user=other_user, type="training.failed", data={"id": "not yours"})
        published = event_publish(user=owner, type="image.held", data={"id": "img-1"})
        [frame] = _frames(response, 1)
        data = _event(frame)
        assert data["id"] == published.id and data["type"] == "image.held"
        assert data["data"] == {"id": "img-1"}
    finally:
        _close(response)


def test_last_event_id_resends_what_was_missed(owner, as_user):
    first, second, third = (
        event_publish(user=owner, type="export.ready", data={"n": n}) for n in range(3)
    )
    response = as_user(owner).get(URL, HTTP_LAST_EVENT_ID=first.id)
    try:
        frames = _frames(response, 3)
        assert [_event(frame)["id"] for frame in frames[1:]] == [second.id, third.id]
    finally:
        _close(response)
    # The query parameter does the same (for a first connection, which cannot set headers).
    response = as_user(owner).get(f"{URL}?last_event_id={second.id}")
    try:
        assert _event(_frames(response, 2)[1])["id"] == third.id
    finally:
        _close(response)


def test_another_users_event_id_resends_nothing(owner, other_user, as_user):
    theirs = event_publish(user=other_user, type="export.ready", data={})
    event_publish(user=other_user, type="export.ready", data={"secret": "theirs"})
    mine = event_publish(user=owner, type="export.ready", data={})
    response = as_user(owner).get(URL, HTTP_LAST_EVENT_ID=theirs.id)
    try:
        _frames(response, 1)
        later = event_publish(user=owner, type="export.ready", data={})
        assert _event(_frames(response, 1)[0])["id"] == later.id != mine.id
    finally:
        _close(response)


def test_a_stream_sends_heartbeats_and_ends_with_a_retry_hint(owner, as_user, settings):
    settings.EVENTS_STREAM_HEARTBEAT_SECONDS = 0.1
    settings.EVENTS_STREAM_SECONDS = 0.5
    started = time.monotonic()
    response = as_user(owner).get(URL)
    body = b"".join(response.streaming_content).decode()
    _close(response)
    elapsed = time.monotonic() - started
    assert body.startswith("retry: 1000\n\n")
    assert body.count(": heartbeat\n\n") >= 2
    assert body.endswith(": closing; reconnect with Last-Event-ID\n\n")
    assert 0.5 <= elapsed < 3


def test_a_process_keeps_a_bounded_number_of_streams(owner, as_user, settings):
    settings.EVENTS_STREAM_MAX_PER_PROCESS = 1
    first = as_user(owner).get(URL)
    try:
        busy = as_user(owner).get(URL)
        assert busy.status_code == 503
        assert busy["Retry-After"] == "5"
        assert busy.json()["code"] == "service_unavailable"
    finally:
        _close(first)
    again = as_user(owner).get(URL)  # the closed stream gave its slot back
    assert again.status_code == 200
    _close(again)
    assert STREAM_SLOTS.taken == 0


def test_session_sign_in_works_too(owner, client):
    client.force_login(owner)
    response = client.get(URL, HTTP_ACCEPT="text/event-stream")
    assert response.status_code == 200
    assert _frames(response, 1) == ["retry: 1000"]
    _close(response)


@pytest.mark.django_db(transaction=True)
def test_a_real_server_streams_each_event_at_once(owner, live_server, settings):
    """Through a real HTTP server (no buffering middleware, chunk by chunk)."""
    token = user_tokens_issue(user=owner)["access"]
    headers = {"Authorization": f"Bearer {token}", "Accept": "text/event-stream"}
    with (
        httpx.Client(timeout=10) as http,
        http.stream("GET", f"{live_server.url}{URL}", headers=headers) as response,
    ):
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines) == "retry: 1000"
        published = event_publish(user=owner, type="generation.succeeded", data={"id": "g"})
        received = []
        for line in lines:
            received.append(line)
            if line.startswith("data: "):
                break
        assert f"id: {published.id}" in received
        assert "event: generation.succeeded" in received
        assert json.loads(received[-1].removeprefix("data: "))["data"] == {"id": "g"}
        # The server ends the stream itself (EVENTS_STREAM_SECONDS), saying how to come back.
        assert [line for line in lines if line][-1] == ": closing; reconnect with Last-Event-ID"
