import pytest

from .factories import make_pack
from .stripe_fake import SECRET_KEY, WEBHOOK_SECRET, start_fake_stripe


@pytest.fixture
def fake_stripe(settings):
    """Payments on, the Stripe API answered by a local server."""
    fake, server = start_fake_stripe()
    settings.STRIPE_SECRET_KEY = SECRET_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_API_BASE = fake.base_url
    settings.PUBLIC_BASE_URL = "https://avatars.example.com"
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def payments_off(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


@pytest.fixture
def pack(db):
    return make_pack()
