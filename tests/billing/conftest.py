import pytest

from .factories import make_pack
from .stripe_fake import stripe_answered_here


@pytest.fixture
def fake_stripe(settings):
    """Payments on, the Stripe API answered by a local server."""
    settings.PUBLIC_BASE_URL = "https://avatars.example.com"
    with stripe_answered_here(settings) as fake:
        yield fake


@pytest.fixture
def payments_off(settings):
    settings.STRIPE_SECRET_KEY = ""
    settings.STRIPE_WEBHOOK_SECRET = ""


@pytest.fixture
def pack(db):
    return make_pack()
