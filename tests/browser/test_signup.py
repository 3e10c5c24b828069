import re

import pytest
from django.core import mail

pytestmark = pytest.mark.browser

PASSWORD = "a-long enough passphrase 9"


def test_sign_up_confirm_and_sign_in_in_a_real_browser(page, live_server):
    page.goto("/")
    page.get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/")
    assert page.get_by_role("heading", name="Create your account").is_visible()

    page.get_by_label("Your name").fill("Robin")
    page.get_by_label("E-mail address").fill("robin@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password (again)").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url("**/accounts/confirm-email/")
    assert page.get_by_role("heading", name="Check your inbox").is_visible()

    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url("**/accounts/login/")

    page.get_by_label("E-mail address").fill("robin@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"^https?://[^/]+/$"))  # the dashboard
    assert page.get_by_role("heading", name="Hello Robin").is_visible()
    assert page.get_by_test_id("credit-line").inner_text().startswith("400 credits")
    assert page.get_by_test_id("next-action").inner_text() == "Upload your photos"

    page.goto("/accounts/profile/")
    assert page.get_by_role("heading", name="Robin").is_visible()
    assert page.get_by_text("Confirmed").is_visible()
    assert page.get_by_test_id("credit-balance").inner_text() == "400"
