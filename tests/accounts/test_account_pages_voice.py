"""Every allauth page is one of the site's: its layout, its buttons, its spelling ("e-mail"),
and a way on from it. So is every e-mail allauth can send with the site's settings."""

import re
from pathlib import Path

import pytest
from allauth.account.adapter import get_adapter
from allauth.core import context as allauth_context
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.sites.shortcuts import get_current_site
from django.core import mail
from django.template.loader import get_template
from django.test import RequestFactory
from django.urls import reverse

from tests.factories import UserFactory, verify_email

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = [
    reverse("account_login"),
    reverse("account_signup"),
    reverse("account_reset_password"),
    reverse("account_reset_password_done"),
    reverse("account_email_verification_sent"),
    reverse("account_inactive"),
    reverse("account_confirm_email", args=["no-such-key"]),
    reverse("account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "no-such-key"}),
    reverse("account_reset_password_from_key_done"),
]
SIGNED_IN_PAGES = [
    reverse("account_logout"),
    reverse("account_email"),
    reverse("account_change_password"),
    reverse("account_reauthenticate"),
]


def _card(html: str) -> str:
    start = html.index('class="card form-card account-page"')
    return html[start : html.index("</main>", start)]


def _visible_text(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def _check(html: str, url: str) -> None:
    assert 'class="site-header"' in html, url  # base.html
    card = _card(html)
    assert re.search(r'class="button[ "]', card), f"{url}: no next step"
    assert not re.search(r"\bemail\b", _visible_text(card), re.I), f"{url}: says 'email'"


@pytest.mark.parametrize("url", ANONYMOUS_PAGES)
def test_every_page_for_visitors_speaks_the_sites_voice(client, url):
    response = client.get(url, follow=True)
    assert response.status_code == 200
    _check(response.content.decode(), url)


@pytest.mark.parametrize("url", SIGNED_IN_PAGES)
def test_every_page_for_members_speaks_the_sites_voice(client, url):
    client.force_login(verify_email(UserFactory()))
    response = client.get(url, follow=True)
    assert response.status_code == 200
    _check(response.content.decode(), url)


def test_the_page_to_choose_a_first_password_speaks_the_sites_voice(client):
    """Reachable by an account without a password (made by an administrator, say); anyone
    else is sent on to the page that changes it."""
    user = UserFactory()
    user.set_unusable_password()
    user.save()
    client.force_login(verify_email(user))
    response = client.get(reverse("account_set_password"))
    assert response.status_code == 200
    _check(response.content.decode(), reverse("account_set_password"))


# --- E-mails --------------------------------------------------------------------------------

TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates"
ADDRESS = "ana@example.com"
# Every e-mail allauth sends with these settings, with what its template is given: the
# notifications (ACCOUNT_EMAIL_NOTIFICATIONS), the mails that keep sign-up and password reset
# from telling whether an address has an account (enumeration prevention), confirmations and
# the reset link. Not sent here: login and password-reset codes (both off), and allauth's
# legacy `email_confirm` notification, which no flow of this version sends.
NOTIFICATION = {"ip": "203.0.113.9", "user_agent": "Firefox", "timestamp": "2026-11-30 12:00"}
EMAILS = {
    "email_changed": {**NOTIFICATION, "from_email": "old@example.com", "to_email": ADDRESS},
    "email_deleted": {**NOTIFICATION, "deleted_email": "old@example.com"},
    "password_changed": NOTIFICATION,
    "password_set": NOTIFICATION,
    "password_reset": NOTIFICATION,
    "account_already_exists": {
        "password_reset_url": "https://avatars.example.com/accounts/password/reset/"
    },
    "unknown_account": {"signup_url": "https://avatars.example.com/accounts/signup/"},
    "password_reset_key": {
        "password_reset_url": "https://avatars.example.com/accounts/password/reset/key/x/"
    },
    "email_confirmation": {"activate_url": "https://avatars.example.com/confirm/k/", "key": "k"},
    "email_confirmation_signup": {
        "activate_url": "https://avatars.example.com/confirm/k/",
        "key": "k",
    },
}


def _rendered(prefix: str, context: dict):
    request = RequestFactory().get("/")
    SessionMiddleware(lambda r: None).process_request(request)
    with allauth_context.request_context(request):
        adapter = get_adapter(request)
        return adapter.render_mail(
            f"account/email/{prefix}",
            ADDRESS,
            {"email": ADDRESS, "request": request, "current_site": get_current_site(request)}
            | context,
        )


@pytest.mark.parametrize("prefix", sorted(EMAILS))
def test_every_e_mail_the_site_sends_is_its_own_and_speaks_its_voice(prefix):
    for part in ("subject", "message"):
        origin = Path(get_template(f"account/email/{prefix}_{part}.txt").origin.name)
        assert origin.is_relative_to(TEMPLATES_DIR), f"{prefix}_{part}: allauth's own"
    message = _rendered(prefix, EMAILS[prefix])
    assert message.subject.startswith("[Avatars] ")
    assert not re.search(r"\bemail\b", message.subject, re.I), message.subject
    body = message.body
    assert body.startswith("Hello from Avatars!") and "— Avatars," in body, body
    assert not re.search(r"\bemail\b", body, re.I), body
    assert "{{" not in body and "{%" not in body
    for value in EMAILS[prefix].values():  # what it was given, it says
        if value not in NOTIFICATION.values() and value != "k":
            assert value in body, (prefix, value)


def test_a_password_reset_for_an_unknown_address_sends_the_sites_e_mail(client):
    response = client.post(reverse("account_reset_password"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    (sent,) = mail.outbox
    assert sent.subject == "[Avatars] No account uses this address"
    assert "no account uses this address" in sent.body and "/accounts/signup/" in sent.body
