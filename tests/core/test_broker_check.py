"""The broker check before a write that enqueues (`@enqueues_work`) costs one PING over a kept
connection, not a new connection per submit, and still refuses at once while Redis is down."""

from __future__ import annotations

import pytest

from core.broker import BrokerUnavailable, broker_ready_check
from tests.reliability.test_redis_outage import on_private_redis, redis_server  # noqa: F401

pytestmark = [pytest.mark.django_db(transaction=True)]


def _connections_received(server) -> int:
    return server.client(0).info("stats")["total_connections_received"]


def test_checks_reuse_one_connection_and_still_see_the_broker_go_and_come_back(
    on_private_redis,  # noqa: F811 (the fixture)
    redis_server,  # noqa: F811
):
    broker_ready_check()
    before = _connections_received(redis_server)
    for _ in range(20):
        broker_ready_check()
    # One new connection per check would be 20 (the count includes the one asking it).
    assert _connections_received(redis_server) - before <= 1

    redis_server.stop()
    with pytest.raises(BrokerUnavailable):
        broker_ready_check()
    redis_server.start()
    broker_ready_check()  # the kept connection died with the server: reconnected once
