import io
import re
import uuid

import pytest
from django.core import mail
from django.test import Client, RequestFactory
from PIL import Image

from accounts.deletion import account_deletion_request
from accounts.exports import data_export_build, data_export_request
from accounts.models import DataExport, User
from accounts.selectors import user_email_verified
from accounts.services import credits_grant, credits_reserve
from accounts.views import too_many_requests
from tests.factories import TEST_PASSWORD, verify_email

pytestmark = pytest.mark.django_db

STRONG = "a-long enough passphrase 9"


def test_sign_up_verify_and_sign_in_on_the_web(client):
    page = client.get("/accounts/signup/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Create your account" in html
    assert 'class="card form-card' in html  # the site's layout, not allauth's bare pages

    response = client.post(
        "/accounts/signup/",
        {
            "display_name": "Sam",
            "email": "sam@example.com",
            "password1": STRONG,
            "password2": STRONG,
        },
        follow=True,
    )
    assert "Check your inbox" in response.content.decode()
    assert "_auth_user_id" not in client.session
    user = User.objects.get(email="sam@example.com")
    assert user.display_name == "Sam"

    # Unverified: signing in only re-sends the link.
    client.post("/accounts/login/", {"login": "sam@example.com", "password": STRONG})
    assert "_auth_user_id" not in client.session

    link = re.search(r"https?://\S+/accounts/confirm-email/\S+/", mail.outbox[0].body).group(0)
    path = link.split("testserver", 1)[1]
    confirm_page = client.get(path)
    assert confirm_page.status_code == 200
    client.post(path)

    signed_in = client.post(
        "/accounts/login/", {"login": "SAM@example.com", "password": STRONG}, follow=True
    )
    assert signed_in.redirect_chain[-1][0] == "/"  # the dashboard
    profile = client.get("/accounts/profile/").content.decode()
    assert "Sam" in profile
    assert "Confirmed" in profile
    assert "100" in profile  # welcome credits


def test_sign_up_refuses_weak_passwords(client):
    response = client.post(
        "/accounts/signup/",
        {"email": "weak@example.com", "password1": "password", "password2": "password"},
    )
    assert response.status_code == 200
    assert "too common" in response.content.decode()
    assert not User.objects.filter(email="weak@example.com").exists()


def test_profile_needs_a_sign_in(client):
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_profile_shows_usage_balance_and_history(client, owner):
    credits_grant(user=owner, amount=30, reason="Welcome gift")
    credits_reserve(user=owner, amount=5, reason="Training of Me")
    client.force_login(owner)
    html = client.get("/accounts/profile/").content.decode()
    assert "Usage on the Free plan" in html
    assert "Generations today" in html
    assert re.search(r'data-testid="credit-balance">25<', html)
    assert "5 held for work in progress" in html
    assert "Welcome gift" in html and "Training of Me" in html
    # The header's menu links to the profile and signs out through allauth.
    assert 'href="/accounts/profile/"' in html
    assert 'action="/accounts/logout/"' in html


def test_the_header_offers_sign_in_and_sign_up_to_visitors(client):
    html = client.get("/").content.decode()
    assert 'href="/accounts/login/"' in html
    assert 'href="/accounts/signup/"' in html


def test_profile_update_and_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post("/accounts/profile/", {"display_name": "Forged"}).status_code == 403
    page = client.get("/accounts/profile/")
    token = page.context["csrf_token"]
    response = client.post(
        "/accounts/profile/", {"display_name": "Kim", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.display_name == "Kim"


def test_avatar_upload_is_served_to_its_owner_only(client, owner, stranger):
    buffer = io.BytesIO()
    Image.new("RGB", (600, 400), (200, 30, 90)).save(buffer, format="PNG")
    buffer.seek(0)
    buffer.name = "me.png"
    client.force_login(owner)
    client.post("/accounts/avatar/", {"avatar": buffer})
    owner.refresh_from_db()
    assert owner.avatar.name.startswith(f"avatars/{owner.public_id}/")
    served = client.get("/accounts/avatar/")
    assert served.status_code == 200
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as image:
        assert image.size == (256, 256)
        assert image.format == "WEBP"

    other = Client()
    other.force_login(stranger)
    assert other.get("/accounts/avatar/").status_code == 404


def test_web_export_and_download(client, owner, stranger, django_capture_on_commit_callbacks):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post("/accounts/export/").status_code == 302
    export = DataExport.objects.get(user=owner)
    assert export.status == "ready"
    assert export.file.name.startswith(f"exports/{owner.public_id}/")
    page = client.get("/accounts/profile/").content.decode()
    url = f"/accounts/export/{export.id}/download/"
    assert url in page
    download = client.get(url)
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    assert download["Content-Disposition"].startswith("attachment;")
    assert {"private", "no-store"} <= set(download["Cache-Control"].replace(" ", "").split(","))

    other = Client()
    other.force_login(stranger)
    assert other.get(url).status_code == 404
    assert other.get(f"/accounts/export/{uuid.uuid4()}/download/").status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"expires_at": "2000-01-01T00:00:00Z"}, "This export has expired"),
        ({"status": "building"}, "This export is not ready yet."),
    ],
)
def test_an_expired_or_unfinished_export_sends_back_to_the_profile_saying_why(
    client, owner, change, message, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/export/")
    export = DataExport.objects.get(user=owner)
    DataExport.objects.filter(pk=export.pk).update(**change)
    response = client.get(f"/accounts/export/{export.id}/download/", follow=True)
    assert response.redirect_chain[-1][0] == "/accounts/profile/"
    assert message in response.content.decode()


def test_asking_twice_for_an_export_reuses_the_one_in_progress(owner):
    first = data_export_request(user=owner)  # on_commit never runs inside the test transaction
    assert data_export_request(user=owner) == first


def test_delete_page_needs_the_password_then_signs_out(
    client, owner, django_capture_on_commit_callbacks
):
    client.force_login(owner)
    wrong = client.post("/accounts/delete/", {"password": "nope"})
    assert wrong.status_code == 200
    assert "Your password is not correct." in wrong.content.decode()
    assert User.objects.filter(pk=owner.pk, is_active=True).exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/delete/", {"password": TEST_PASSWORD}, follow=True)
    assert "Your account is being deleted" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not User.objects.filter(pk=owner.pk).exists()


def test_deletion_stops_other_sessions_at_once(owner):
    other_browser = Client()
    other_browser.force_login(owner)
    account_deletion_request(user=owner, password=TEST_PASSWORD)  # task not run yet
    assert other_browser.get("/accounts/profile/").status_code == 302
    assert User.objects.get(pk=owner.pk).is_active is False


def test_web_forms_enforce_csrf(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for path in ("/accounts/delete/", "/accounts/export/", "/accounts/avatar/"):
        assert client.post(path, {"password": TEST_PASSWORD}).status_code == 403, path
    assert User.objects.get(pk=owner.pk).is_active


def test_allauth_pages_render_in_the_site_layout(client, owner):
    for path in ("/accounts/login/", "/accounts/password/reset/"):
        html = client.get(path).content.decode()
        assert 'class="site-header"' in html, path
        assert 'class="card form-card' in html, path
    verify_email(owner)
    client.force_login(owner)
    for path in ("/accounts/email/", "/accounts/password/change/"):
        html = client.get(path).content.decode()
        assert 'class="site-header"' in html, path
        assert "Back to your profile" in html, path


def test_too_many_requests_page_is_styled(client):
    request = RequestFactory().get("/")
    request.user = User()
    response = too_many_requests(request)
    assert response.status_code == 429
    assert "Too many attempts." in response.content.decode()


def test_changing_the_email_address_takes_effect_once_the_new_one_is_confirmed(client, owner):
    verify_email(owner)
    client.force_login(owner)
    client.post("/accounts/email/", {"email": "new-owner@example.com", "action_add": ""})
    owner.refresh_from_db()
    assert owner.email == "owner@example.com"  # not before the new address is confirmed
    message = next(m for m in mail.outbox if m.to == ["new-owner@example.com"])
    path = re.search(r"/accounts/confirm-email/\S+/", message.body).group(0)
    client.post(path)
    owner.refresh_from_db()
    assert owner.email == "new-owner@example.com"
    assert selectors_verified(owner)


def selectors_verified(user):
    return user_email_verified(user=user)


def test_the_export_list_updates_itself_until_the_export_is_ready(client, owner, stranger):
    client.force_login(owner)
    export = data_export_request(user=owner)  # its task does not run in this transaction
    page = client.get("/accounts/profile/").content.decode()
    assert 'hx-get="/accounts/exports/"' in page and 'data-export-status="pending"' in page
    assert f"/accounts/export/{export.id}/download/" not in page

    data_export_build(export_id=export.pk)
    fragment = client.get("/accounts/exports/").content.decode()
    assert f"/accounts/export/{export.id}/download/" in fragment
    assert "hx-get" not in fragment  # ready: it stops polling

    other = Client()
    other.force_login(stranger)
    assert f"{export.id}" not in other.get("/accounts/exports/").content.decode()
    assert Client().get("/accounts/exports/").status_code == 302
