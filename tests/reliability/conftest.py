"""Fixtures of the fault tests: real workers on a queue of the test's own, a funded owner,
a trained version on the simulator, and the moment the test began."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import credits_grant
from tests.gallery.factories import train_version
from tests.reliability.jobs import CREDITS
from tests.worker_fixtures import workers_running


@pytest.fixture
def workers(transactional_db, settings, replicate_backend, live_server, tmp_path):
    yield from workers_running(settings=settings, live_server=live_server, tmp_path=tmp_path)


@pytest.fixture(scope="module")
def trained(replicate_simulator):
    return train_version(replicate_simulator)


@pytest.fixture
def since():
    time.sleep(0.05)  # every remote job of earlier tests is older (the simulator counts in ms)
    return timezone.now() - timedelta(milliseconds=10)


@pytest.fixture
def funded(owner):
    credits_grant(user=owner, amount=CREDITS, reason="test credits")
    return owner
