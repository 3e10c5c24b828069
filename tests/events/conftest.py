import pytest

from events.models import EventEndpoint, EventType
from tests.events.receiver import Receiver
from tests.worker_fixtures import workers_running


@pytest.fixture
def make_receiver():
    started: list[Receiver] = []

    def make(**options) -> Receiver:
        receiver = Receiver(**options)
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        receiver.close()


@pytest.fixture
def receiver(make_receiver) -> Receiver:
    return make_receiver()


@pytest.fixture
def endpoint_for(owner):
    """An endpoint of `owner` (by default) at `url`, subscribed to every event type."""

    def make(url: str, *, user=None, event_types=None) -> EventEndpoint:
        return EventEndpoint.objects.create(
            owner=user or owner, url=url, event_types=event_types or list(EventType.values)
        )

    return make


@pytest.fixture
def events_worker(transactional_db, settings, live_server, tmp_path):
    """A real Celery worker whose retries come after about 1 s instead of 5 s, 5 min…"""
    for pool in workers_running(settings=settings, live_server=live_server, tmp_path=tmp_path):
        yield pool.start(EVENTS_RETRY_SCHEDULE_SECONDS="1,1,1")
