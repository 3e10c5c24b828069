"""Fixtures of the gallery tests: a model trained once per session on the simulator, ready
LoraModel rows that point at it, credits, API and browser clients, and stored images."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from accounts.services import credits_grant
from core import replicate_gateway
from gallery.models import Generation
from gallery.services import generation_jobs
from tests.gallery.factories import (
    TrainedVersion,
    ready_lora_model,
    train_version,
)
from tests.simulator_fixtures import wait_until


@pytest.fixture(autouse=True)
def _no_webhook_target(settings):
    """Outside live-worker tests, webhooks go to a closed port (never to a dev server here)."""
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def trained_version(replicate_simulator) -> TrainedVersion:
    """A FLUX LoRA version trained once per session on the simulator."""
    return train_version(replicate_simulator)


@pytest.fixture
def credits(owner):
    credits_grant(user=owner, amount=1000, reason="Test credits")
    return 1000


@pytest.fixture
def lora(owner, trained_version, replicate_backend):
    """The owner's ready model, backed by the version trained on the simulator."""
    return ready_lora_model(owner, trained_version, trigger_word="ZORVEK", name="Me")


@pytest.fixture
def other_lora(other_user):
    """Another user's ready model (its version is fake: it is never run)."""
    return ready_lora_model(other_user, None, trigger_word="KAVIRO", name="Theirs")


@pytest.fixture
def browser_as():
    """A Django test client signed in (session) as the given user, CSRF checks on."""

    def make(user, *, enforce_csrf: bool = False) -> Client:
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        client = Client(enforce_csrf_checks=enforce_csrf)
        client.force_login(user)
        return client

    return make


@pytest.fixture
def finish():
    """Wait until the simulator has finished a generation's prediction, then apply it (what the
    webhook's task does)."""

    def run(generation: Generation, timeout: float = 10.0) -> Generation:
        generation.refresh_from_db()
        assert generation.replicate_id, (generation.status, generation.error_message)
        wait_until(
            lambda: (
                replicate_gateway.prediction_get(prediction_id=generation.replicate_id).is_terminal
            ),
            timeout=timeout,
            message="the prediction did not finish",
        )
        return generation_jobs.refresh(replicate_id=generation.replicate_id)

    return run
