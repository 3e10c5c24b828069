"""Whether the Celery broker takes messages, for writes that are only useful with their task.

Tasks are enqueued after commit (`delay_on_commit`), so a write made while the broker is down
would commit and then fail to enqueue: a generation queued with its credits reserved and no
task to send it. A service whose write must enqueue (a generation, a dataset upload, a training
run, a data export, an account deletion) is decorated with `@enqueues_work`, which checks the
broker before the service writes anything: while the broker does not answer, it raises
BrokerUnavailable, which the API answers 503 with `Retry-After`, and nothing is written. Reads
need no broker and keep working.

The check and the enqueue are two moments: should the broker go down between them (a few
milliseconds), the enqueue after commit still fails; the API then answers 503 as well
(`core.api`), and reconciliation submits a queued job whose task was lost.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import redis
from celery import current_app
from kombu.exceptions import OperationalError
from redis.backoff import NoBackoff
from redis.retry import Retry

from .exceptions import DomainError

logger = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

RETRY_AFTER_SECONDS = 30
CHECK_TIMEOUT_SECONDS = 1.0

# What sending a task raises when the broker cannot be reached (Celery re-raises the
# transport's connection errors as kombu's OperationalError once its retries are spent).
BROKER_ERRORS = (OperationalError,)
_REDIS = ("redis", "rediss")


class BrokerUnavailable(DomainError):
    """Background work cannot be queued now; nothing was written. 503 with Retry-After."""

    status_code = 503
    code = "service_unavailable"

    def __init__(
        self,
        message: str = ("We cannot start background work right now. Please try again in a minute."),
        *,
        retry_after: int = RETRY_AFTER_SECONDS,
    ):
        super().__init__(message)
        self.retry_after = retry_after


def broker_ready_check() -> None:
    """Raise BrokerUnavailable unless the broker answers now.

    On Redis, one PING over a connection kept for the purpose (a fraction of a millisecond,
    where opening a broker connection per call cost ~7 ms of every submit); it reconnects once
    after a restart, and gives up after CHECK_TIMEOUT_SECONDS when the host does not answer.
    Other transports: a new connection per call. With tasks run inline
    (CELERY_TASK_ALWAYS_EAGER, the unit tests) there is no broker to ask.
    """
    app = current_app
    if app.conf.task_always_eager:
        return
    url = app.conf.broker_write_url or app.conf.broker_url or ""
    try:
        if isinstance(url, str) and ";" not in url and urlsplit(url).scheme in _REDIS:
            _redis_checker(url).ping()
            return
        with app.connection_for_write(connect_timeout=CHECK_TIMEOUT_SECONDS) as connection:
            connection.ensure_connection(max_retries=0, timeout=CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # whatever the transport raises, the answer is "not now"
        logger.warning("broker unavailable, write refused with 503: %r", error)
        raise BrokerUnavailable() from error


@functools.cache
def _redis_checker(url: str) -> redis.Redis:
    # Its own small pool (thread-safe), apart from kombu's channels: a PING here never waits
    # behind a publish, and the timeouts bound the check whatever the broker options say.
    return redis.Redis.from_url(
        url,
        socket_connect_timeout=CHECK_TIMEOUT_SECONDS,
        socket_timeout=CHECK_TIMEOUT_SECONDS,
        retry=Retry(NoBackoff(), 1),
        max_connections=64,
    )


def enqueues_work(service: Callable[P, R]) -> Callable[P, R]:
    """For a service whose write is useful only with the task it enqueues: the broker is checked
    before the service runs (before its transaction opens, when it is the outer decorator), so
    nothing is written while no task could be sent."""

    @functools.wraps(service)
    def checked(*args: P.args, **kwargs: P.kwargs) -> R:
        broker_ready_check()
        return service(*args, **kwargs)

    return checked
