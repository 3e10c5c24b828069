import io
import zipfile

import pytest
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import DataExport, User
from accounts.services import credits_grant, credits_reserve, user_profile_update
from core.exceptions import InvalidInput
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another fine passphrase 31"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/me/"),
        ("patch", "/api/v1/me/"),
        ("delete", "/api/v1/me/"),
        ("post", "/api/v1/me/password/"),
        ("get", "/api/v1/me/credits/"),
        ("get", "/api/v1/me/export/"),
        ("post", "/api/v1/me/export/"),
        ("get", "/api/v1/me/avatar/"),
    ],
)
def test_anonymous_requests_are_401(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_me_shows_profile_plan_usage_and_credits(as_user, owner):
    credits_grant(user=owner, amount=40, reason="Welcome")
    credits_reserve(user=owner, amount=15, reason="Training")
    body = as_user(owner).get("/api/v1/me/").json()
    assert body["email"] == owner.email
    assert body["plan"] == "Free"
    assert body["credits"] == {"balance": 25, "reserved": 15}
    assert body["avatar_url"] is None
    usage = {item["kind"]: item for item in body["usage"]}
    assert usage["generations_per_day"]["limit"] == 100
    assert usage["generations_per_day"]["resets_at"]
    assert usage["models"]["resets_at"] is None


def test_patch_me_updates_the_display_name_only(as_user, owner):
    client = as_user(owner)
    response = client.patch(
        "/api/v1/me/", {"display_name": "  Robin  ", "email": "evil@example.com"}
    )
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.display_name == "Robin"
    assert owner.email == "owner@example.com"

    too_long = client.patch("/api/v1/me/", {"display_name": "x" * 81})
    assert too_long.status_code == 400
    assert "display_name" in too_long.json()["errors"]


def test_the_profile_service_refuses_a_bad_name_with_the_projects_error(owner):
    with pytest.raises(InvalidInput) as refused:
        user_profile_update(user=owner, display_name="x" * 81)
    assert list(refused.value.errors) == ["display_name"]
    owner.refresh_from_db()
    assert owner.display_name != "x" * 81


def test_change_password_revokes_other_sessions_and_returns_new_tokens(as_user, api, owner):
    other_device = str(RefreshToken.for_user(owner))
    client = as_user(owner)
    wrong = client.post(
        "/api/v1/me/password/", {"current_password": "nope", "new_password": NEW_PASSWORD}
    )
    assert wrong.status_code == 400
    assert "current_password" in wrong.json()["errors"]

    weak = client.post(
        "/api/v1/me/password/", {"current_password": TEST_PASSWORD, "new_password": "owner"}
    )
    assert weak.status_code == 400
    assert "new_password" in weak.json()["errors"]

    changed = client.post(
        "/api/v1/me/password/",
        {"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert changed.status_code == 200
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert api.post("/api/v1/auth/token/refresh/", {"refresh": other_device}).status_code == 401
    # The access token used for the change is revoked too; the new pair works.
    assert client.get("/api/v1/me/").status_code == 401
    fresh = APIClient()
    fresh.credentials(HTTP_AUTHORIZATION=f"Bearer {changed.json()['access']}")
    assert fresh.get("/api/v1/me/").status_code == 200


def test_credits_history_is_paginated_with_the_balance(as_user, owner, other_user):
    for n in range(3):
        credits_grant(user=owner, amount=10, reason=f"Grant {n}")
    credits_grant(user=other_user, amount=99, reason="Not yours")
    response = as_user(owner).get("/api/v1/me/credits/?page_size=2")
    assert response.status_code == 200
    body = response.json()
    assert body["balance"] == 30
    assert [entry["reason"] for entry in body["results"]] == ["Grant 2", "Grant 1"]
    assert body["next"]
    rest = as_user(owner).get(body["next"]).json()
    assert [entry["reason"] for entry in rest["results"]] == ["Grant 0"]


def test_export_is_built_and_downloaded_by_its_owner_only(
    as_user, owner, stranger, django_capture_on_commit_callbacks
):
    credits_grant(user=owner, amount=12, reason="Welcome")
    client = as_user(owner)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/me/export/")
    assert response.status_code == 202
    export_id = response.json()["id"]

    detail = client.get(f"/api/v1/me/export/{export_id}/").json()
    assert detail["status"] == "ready"
    assert detail["download_url"].endswith(f"/api/v1/me/export/{export_id}/download/")

    download = client.get(f"/api/v1/me/export/{export_id}/download/")
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert {"profile.json", "credits.json", "README.json"} <= set(archive.namelist())
    assert b'"balance": 12' in archive.read("credits.json")

    other = as_user(stranger)
    assert other.get(f"/api/v1/me/export/{export_id}/").status_code == 404
    assert other.get(f"/api/v1/me/export/{export_id}/download/").status_code == 404
    assert other.get("/api/v1/me/export/").json()["results"] == []


def test_an_expired_export_answers_410(as_user, owner, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        export_id = as_user(owner).post("/api/v1/me/export/").json()["id"]
    DataExport.objects.filter(id=export_id).update(expires_at="2000-01-01T00:00:00Z")
    response = as_user(owner).get(f"/api/v1/me/export/{export_id}/download/")
    assert response.status_code == 410
    assert response.json()["code"] == "expired"


def test_delete_me_needs_the_password(as_user, owner, django_capture_on_commit_callbacks):
    client = as_user(owner)
    missing = client.delete("/api/v1/me/", {})
    assert missing.status_code == 400
    assert "password" in missing.json()["errors"]
    wrong = client.delete("/api/v1/me/", {"password": "nope"})
    assert wrong.status_code == 400
    assert "password" in wrong.json()["errors"]
    assert User.objects.get(pk=owner.pk).is_active

    refresh = str(RefreshToken.for_user(owner))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete("/api/v1/me/", {"password": TEST_PASSWORD})
    assert response.status_code == 202
    assert not User.objects.filter(pk=owner.pk).exists()
    assert client.get("/api/v1/me/").status_code == 401
    assert APIClient().post("/api/v1/auth/token/refresh/", {"refresh": refresh}).status_code == 401


def test_session_requests_to_the_api_enforce_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.get("/api/v1/me/").status_code == 200
    response = client.patch(
        "/api/v1/me/", {"display_name": "Forged"}, content_type="application/json"
    )
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    owner.refresh_from_db()
    assert owner.display_name != "Forged"
