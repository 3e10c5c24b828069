import pytest

from accounts.services import credits_grant


@pytest.fixture(autouse=True)
def _no_webhook_target(settings):
    """Webhooks of jobs these tests start go to a closed port (never to a dev server here)."""
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"


@pytest.fixture
def credits(owner):
    credits_grant(user=owner, amount=1000, reason="Test credits")
    return 1000
