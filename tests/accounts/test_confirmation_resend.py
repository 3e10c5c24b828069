"""Signing in with an address not confirmed yet sends a fresh confirmation link that works,
at most one every few minutes (allauth's `confirm_email` rate limit, ACCOUNT_RATE_LIMITS)."""

import re
import time
import types

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def unconfirmed(db):
    user = UserFactory(email="late@example.com")
    EmailAddress.objects.create(user=user, email=user.email, verified=False, primary=True)
    return user


def _sign_in(client, user):
    return client.post(reverse("account_login"), {"login": user.email, "password": TEST_PASSWORD})


def _link(message) -> str:
    return re.search(r"http://testserver(/accounts/confirm-email/[^/\s]+/)", message.body)[1]


def test_signing_in_unconfirmed_sends_a_new_link_that_confirms_the_address(client, unconfirmed):
    response = _sign_in(client, unconfirmed)
    assert response["Location"] == reverse("account_email_verification_sent")
    page = client.get(response["Location"]).content.decode()
    assert "We sent you a link to confirm it" in page
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [unconfirmed.email]
    assert message.subject == "[Avatars] Confirm your e-mail address"
    assert "email address" not in message.body  # the site's spelling: e-mail
    link = _link(message)
    confirm_page = client.get(link).content.decode()
    assert "Confirm my address" in confirm_page
    client.post(link)
    assert EmailAddress.objects.get(user=unconfirmed).verified
    assert _sign_in(client, unconfirmed)["Location"] == reverse("home")


def test_repeated_attempts_send_one_link_every_few_minutes(client, unconfirmed, monkeypatch):
    from allauth.core.internal import ratelimit

    now = time.time()
    clock = types.SimpleNamespace(time=lambda: now, monotonic=time.monotonic, sleep=time.sleep)
    monkeypatch.setattr(ratelimit, "time", clock)
    for _ in range(3):
        _sign_in(client, unconfirmed)
    assert len(mail.outbox) == 1
    now += 4 * 60
    _sign_in(client, unconfirmed)
    assert len(mail.outbox) == 2
    assert _link(mail.outbox[0]) != _link(mail.outbox[1])


def test_an_expired_or_used_link_says_how_to_get_a_new_one(client):
    page = client.get(reverse("account_confirm_email", args=["no-such-key"])).content.decode()
    assert "This link has expired or was already used." in page
    assert f'href="{reverse("account_login")}">Sign in for a new link' in page
