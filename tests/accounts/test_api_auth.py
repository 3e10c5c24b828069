import re

import pytest
from django.core import mail
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import CreditEntry, User
from accounts.selectors import credit_balance
from tests.factories import TEST_PASSWORD, verify_email

pytestmark = pytest.mark.django_db

STRONG = "a-long enough passphrase 9"


def _key_from_mail(message) -> str:
    match = re.search(r"/accounts/confirm-email/([^/\s]+)/", message.body)
    assert match, message.body
    return match.group(1)


def _sign_in(api, email, password=STRONG):
    return api.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json")


def test_register_verify_and_sign_in_through_the_api(api):
    response = api.post(
        "/api/v1/auth/register/",
        {"email": "New.Person@Example.com", "password": STRONG, "display_name": "Nia"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["email"] == "new.person@example.com"
    user = User.objects.get(email="new.person@example.com")
    assert user.display_name == "Nia"
    # The plan's welcome credits, granted once.
    assert credit_balance(user=user) == 400

    # Not verified yet: no tokens.
    refused = _sign_in(api, "new.person@example.com")
    assert refused.status_code == 403
    assert refused.json()["code"] == "email_not_verified"

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.person@example.com"]
    key = _key_from_mail(mail.outbox[0])
    assert key in mail.outbox[0].body.split("paste this key:")[1]

    verified = api.post("/api/v1/auth/verify-email/", {"key": key}, format="json")
    assert verified.status_code == 200, verified.json()

    tokens = _sign_in(api, "NEW.person@example.com")
    assert tokens.status_code == 200, tokens.json()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens.json()['access']}")
    me = api.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "new.person@example.com"
    assert me.json()["email_verified"] is True


def test_register_refuses_a_weak_password_naming_the_field(api):
    response = api.post(
        "/api/v1/auth/register/", {"email": "weak@example.com", "password": "12345678"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    # Each of Django's validators that refused it has its own message.
    assert body["errors"]["password"] == [
        "This password is too common.",
        "This password is entirely numeric.",
    ]
    assert not User.objects.filter(email="weak@example.com").exists()


def test_register_names_missing_fields(api):
    response = api.post("/api/v1/auth/register/", {"email": "not-an-email"})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"email", "password"}


def test_register_with_a_taken_address_reveals_nothing_and_warns_its_owner(api, owner):
    response = api.post(
        "/api/v1/auth/register/", {"email": "OWNER@example.com", "password": STRONG}
    )
    assert response.status_code == 201
    assert User.objects.filter(email__iexact="owner@example.com").count() == 1
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["owner@example.com"]
    assert "already" in mail.outbox[0].subject.lower() + mail.outbox[0].body.lower()
    assert not CreditEntry.objects.filter(user=owner).exists()


def test_a_bad_verification_key_is_a_400_on_the_key(api):
    response = api.post("/api/v1/auth/verify-email/", {"key": "nonsense"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"key": [response.json()["detail"]]}


def test_wrong_password_is_401_in_the_one_error_shape(api, owner):
    verify_email(owner)
    response = _sign_in(api, owner.email, "wrong password")
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert response["WWW-Authenticate"].startswith("Bearer")
    unknown = _sign_in(api, "nobody@example.com", "whatever")
    assert unknown.status_code == 401
    assert unknown.json() == response.json()


def test_refresh_rotates_and_the_old_refresh_token_is_blacklisted(api, owner):
    verify_email(owner)
    tokens = _sign_in(api, owner.email, TEST_PASSWORD).json()

    rotated = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != tokens["refresh"]

    replay = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert replay.status_code == 401
    assert replay.json() == {
        "detail": "This refresh token is expired, revoked or not valid: sign in again.",
        "code": "token_not_valid",
    }

    again = api.post("/api/v1/auth/token/refresh/", {"refresh": rotated.json()["refresh"]})
    assert again.status_code == 200


def test_logout_blacklists_the_refresh_token(api, owner):
    refresh = str(RefreshToken.for_user(owner))
    assert api.post("/api/v1/auth/logout/", {"refresh": refresh}).status_code == 204
    # Signing out twice is fine; the token is dead.
    assert api.post("/api/v1/auth/logout/", {"refresh": refresh}).status_code == 204
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401

    garbage = api.post("/api/v1/auth/logout/", {"refresh": "not-a-token"})
    assert garbage.status_code == 400
    assert "refresh" in garbage.json()["errors"]
    assert api.post("/api/v1/auth/logout/", {}).json()["errors"].keys() == {"refresh"}


def test_a_stale_access_token_does_not_break_sign_in_or_refresh(api, owner):
    verify_email(owner)
    api.credentials(HTTP_AUTHORIZATION="Bearer expired.or.garbage")
    assert api.get("/api/v1/me/").status_code == 401
    assert api.get("/api/v1/me/").json()["code"] == "token_not_valid"
    tokens = _sign_in(api, owner.email, TEST_PASSWORD)
    assert tokens.status_code == 200
    refreshed = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens.json()["refresh"]})
    assert refreshed.status_code == 200


def test_an_inactive_account_cannot_sign_in_or_refresh(api, owner):
    verify_email(owner)
    refresh = str(RefreshToken.for_user(owner))
    access = str(RefreshToken.for_user(owner).access_token)
    User.objects.filter(pk=owner.pk).update(is_active=False)
    assert _sign_in(api, owner.email, TEST_PASSWORD).status_code == 401
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    assert api.get("/api/v1/me/").status_code == 401


def test_the_schema_documents_every_accounts_path(client):
    response = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "auth/register/",
        "auth/verify-email/",
        "auth/token/",
        "auth/token/refresh/",
        "auth/logout/",
        "me/",
        "me/password/",
        "me/export/",
        "me/credits/",
    ):
        assert f"/api/v1/{path}" in paths, path
    assert set(paths["/api/v1/me/"]) >= {"get", "patch", "delete"}
    assert "requestBody" in paths["/api/v1/me/"]["delete"]


def test_the_schema_documents_the_errors_of_a_data_export(client):
    paths = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    assert {"200", "404"} <= set(paths["/api/v1/me/export/{export_id}/"]["get"]["responses"])
    download = paths["/api/v1/me/export/{export_id}/download/"]["get"]["responses"]
    assert {"200", "404", "409", "410"} <= set(download)


@pytest.mark.parametrize(
    ("header", "code"),
    [("Bearer ", "bad_authorization_header"), ("Bearer a b", "bad_authorization_header")],
)
def test_a_malformed_authorization_header_is_a_plain_401(api, header, code):
    api.credentials(HTTP_AUTHORIZATION=header)
    response = api.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json() == {
        "detail": "Authorization header must contain two space-delimited values",
        "code": code,
    }


def test_a_token_of_an_inactive_or_changed_account_is_a_plain_401(api, owner):
    verify_email(owner)
    access = str(RefreshToken.for_user(owner).access_token)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    User.objects.filter(pk=owner.pk).update(is_active=False)
    inactive = api.get("/api/v1/me/").json()
    assert inactive["code"] == "user_inactive"
    assert "ErrorDetail" not in inactive["detail"] and "{" not in inactive["detail"]
    User.objects.filter(pk=owner.pk).update(is_active=True)
    owner.set_password("a-brand-new-pass-phrase")
    owner.save()
    changed = api.get("/api/v1/me/")
    assert changed.status_code == 401
    assert "ErrorDetail" not in changed.json()["detail"]
