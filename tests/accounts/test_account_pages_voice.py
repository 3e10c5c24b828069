"""Every allauth page is one of the site's: its layout, its buttons, its spelling ("e-mail"),
and a way on from it."""

import re

import pytest
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
