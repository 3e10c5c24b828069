import pytest
from django.core import mail
from django.test import Client

from accounts import lockout
from accounts.models import User
from tests.factories import TEST_PASSWORD, verify_email

pytestmark = pytest.mark.django_db


def _api_sign_in(api, email, password, ip="10.1.1.1"):
    return api.post("/api/v1/auth/token/", {"email": email, "password": password}, REMOTE_ADDR=ip)


def _web_sign_in(client, email, password, ip="10.1.1.1"):
    return client.post("/accounts/login/", {"login": email, "password": password}, REMOTE_ADDR=ip)


def test_api_locks_the_account_after_five_bad_passwords(api, owner, settings):
    verify_email(owner)
    for _ in range(5):
        assert _api_sign_in(api, owner.email, "wrong").status_code == 401

    locked = _api_sign_in(api, owner.email, TEST_PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["code"] == "locked_out"
    assert 0 < int(locked["Retry-After"]) <= settings.LOGIN_LOCKOUT_SECONDS
    assert "try again in 15 minutes" in locked.json()["detail"]

    # The lock is on the account: another IP is refused too, another account is not.
    assert _api_sign_in(api, owner.email, TEST_PASSWORD, ip="10.9.9.9").status_code == 429


def test_the_lock_expires(api, owner, settings, monkeypatch):
    verify_email(owner)
    for _ in range(5):
        _api_sign_in(api, owner.email, "wrong")
    later = lockout.time.time() + settings.LOGIN_LOCKOUT_SECONDS + 1
    monkeypatch.setattr(lockout.time, "time", lambda: later)
    assert _api_sign_in(api, owner.email, TEST_PASSWORD).status_code == 200


def test_a_success_before_the_limit_starts_the_count_again(api, owner):
    verify_email(owner)
    for _ in range(4):
        _api_sign_in(api, owner.email, "wrong")
    assert _api_sign_in(api, owner.email, TEST_PASSWORD).status_code == 200
    for _ in range(4):
        _api_sign_in(api, owner.email, "wrong")
    assert _api_sign_in(api, owner.email, TEST_PASSWORD).status_code == 200


def test_one_ip_guessing_many_accounts_is_locked_out(api, owner, settings):
    settings.LOGIN_LOCKOUT_IP_FAILURES = 6
    verify_email(owner)
    for n in range(6):
        _api_sign_in(api, f"victim{n}@example.com", "guess", ip="10.6.6.6")
    assert _api_sign_in(api, owner.email, TEST_PASSWORD, ip="10.6.6.6").status_code == 429
    assert _api_sign_in(api, owner.email, TEST_PASSWORD, ip="10.7.7.7").status_code == 200


def test_web_sign_in_shows_the_lockout_as_a_form_error(client, owner):
    verify_email(owner)
    for _ in range(5):
        response = _web_sign_in(client, owner.email, "wrong")
        assert response.status_code == 200
        assert "not correct" in response.content.decode()
    response = _web_sign_in(client, owner.email, TEST_PASSWORD)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Too many failed sign-in attempts" in html
    assert "_auth_user_id" not in client.session


def test_failures_on_the_web_and_the_api_add_up(api, client, owner):
    verify_email(owner)
    for _ in range(3):
        _web_sign_in(client, owner.email, "wrong")
    for _ in range(2):
        _api_sign_in(api, owner.email, "wrong")
    assert _api_sign_in(api, owner.email, TEST_PASSWORD).status_code == 429


def test_the_admin_login_is_locked_out_too(client, api):
    User.objects.create_superuser(email="boss@example.com", password=TEST_PASSWORD)
    for _ in range(5):
        client.post("/admin/login/", {"username": "boss@example.com", "password": "wrong"})
    client.post("/admin/login/", {"username": "boss@example.com", "password": TEST_PASSWORD})
    assert client.get("/admin/").status_code == 302  # still signed out


def test_a_password_reset_lifts_the_lock(client, api, owner):
    verify_email(owner)
    for _ in range(5):
        _api_sign_in(api, owner.email, "wrong")
    client.post("/accounts/password/reset/", {"email": owner.email})
    link = next(
        line for line in mail.outbox[-1].body.splitlines() if "/password/reset/key/" in line
    )
    path = link[link.index("/accounts/") :].strip()
    form_page = client.get(path, follow=True)
    new_password = "brand new passphrase 77"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"password1": new_password, "password2": new_password},
    )
    assert done.status_code == 302
    assert _api_sign_in(api, owner.email, new_password).status_code == 200


def test_password_reset_requests_are_rate_limited_per_account(owner):
    client = Client()
    statuses = [
        client.post("/accounts/password/reset/", {"email": owner.email}).status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [302] * 5
    assert statuses[5] == 429
    assert len(mail.outbox) == 5
    page = client.post("/accounts/password/reset/", {"email": owner.email})
    assert "Too many attempts." in page.content.decode()


def test_wrong_current_passwords_count_towards_the_lockout(as_user, owner):
    client = as_user(owner)
    for _ in range(3):
        client.post("/api/v1/me/password/", {"current_password": "guess", "new_password": "x" * 20})
    for _ in range(2):
        client.delete("/api/v1/me/", {"password": "guess"})
    response = client.delete("/api/v1/me/", {"password": TEST_PASSWORD})
    assert response.status_code == 429
    assert response.json()["code"] == "locked_out"
    owner.refresh_from_db()
    assert owner.is_active


def test_the_delete_page_shows_the_lockout_and_deletes_nothing(client, owner):
    client.force_login(owner)
    for _ in range(5):
        client.post("/accounts/delete/", {"password": "guess"}, REMOTE_ADDR="10.1.1.1")
    page = client.post("/accounts/delete/", {"password": TEST_PASSWORD}, REMOTE_ADDR="10.1.1.1")
    assert page.status_code == 200
    assert "Too many failed sign-in attempts" in page.content.decode()
    owner.refresh_from_db()
    assert owner.is_active and owner.deletion_requested_at is None
