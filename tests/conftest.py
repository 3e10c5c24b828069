import importlib

import pytest
from django.apps import apps
from django.contrib.auth.models import Group
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.services import user_tokens_issue
from tests.factories import UserFactory
from tests.simulator_fixtures import (  # noqa: F401 (fixtures)
    make_webhook_receiver,
    replicate_simulator,
    simulator,
    webhook_receiver,
)
from tests.worker_fixtures import live_worker  # noqa: F401 (fixture)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and lockouts live in the cache: no test inherits another's."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    """Every test writes its files to a folder of its own, removed afterwards."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media"), "base_url": settings.MEDIA_URL},
        },
    }


@pytest.fixture
def owner(db):
    return UserFactory(email="owner@example.com")


@pytest.fixture
def other_user(db):
    return UserFactory(email="other@example.com")


@pytest.fixture
def moderator(db):
    """Staff in the `moderator` group: the review queue and its API, nothing else."""
    user = UserFactory(email="moderator@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="moderator"))
    return user


@pytest.fixture
def stranger(db):
    return UserFactory(email="stranger@example.com")


@pytest.fixture
def replicate_backend(settings, simulator):  # noqa: F811 (the fixture)
    """Point the Replicate gateway at the test simulator (fault settings reset around the test)."""
    settings.REPLICATE_API_TOKEN = ""
    settings.REPLICATE_USES_SIMULATOR = True
    settings.REPLICATE_BASE_URL = simulator.base_url
    settings.REPLICATE_SIMULATOR_TOKEN = simulator.token
    settings.REPLICATE_OWNER = simulator.owner
    settings.REPLICATE_WEBHOOK_SECRET = ""
    return simulator


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user():
    """An API client signed in with a JWT access token for the given user."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_tokens_issue(user=user)['access']}")
        return client

    return make


@pytest.fixture
def style_packs(transactional_db):
    """The packs a fresh install has, for transactional tests: one before may have flushed what
    the data migration installed."""
    migration = importlib.import_module("gallery.migrations.0007_install_style_packs")
    migration.install_style_packs(apps, None)
