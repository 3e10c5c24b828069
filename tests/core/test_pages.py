import logging
import re

import pytest
from django.test import override_settings
from django.urls import path

from accounts.models import User


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", _boom)]
handler500 = "core.views.server_error"


@pytest.mark.django_db
def test_home_page_renders_with_the_site_layout(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Pictures of you, in any scene or style." in html
    # Everything the page loads is served locally: no CDN.
    assert re.search(r'src="/static/vendor/htmx-2\.0\.11\.min\.[0-9a-f]+\.js"', html) or (
        'src="/static/vendor/htmx-2.0.11.min.js"' in html
    )
    assert "https://" not in re.sub(r'href="https://[^"]*"', "", html.split("<body")[0])


@pytest.mark.django_db
def test_unknown_page_is_a_styled_404(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page." in response.content.decode()


@pytest.mark.django_db
@override_settings(ROOT_URLCONF=__name__)
def test_server_error_is_a_styled_500_with_a_reference(client):
    client.raise_request_exception = False
    response = client.get("/boom/", HTTP_X_REQUEST_ID="req-1234567890")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side." in html
    assert "req-1234567890" in html
    assert "RuntimeError" not in html


@pytest.mark.django_db
def test_every_response_carries_a_request_id_and_logs_one_line(client, caplog):
    with caplog.at_level(logging.INFO, logger="core.request"):
        response = client.get("/", HTTP_X_REQUEST_ID="abc-def-12345")
    assert response["X-Request-ID"] == "abc-def-12345"
    lines = [r for r in caplog.records if r.name == "core.request"]
    assert len(lines) == 1
    assert lines[0].request_id == "abc-def-12345"
    assert "GET / 200" in lines[0].getMessage()


@pytest.mark.django_db
def test_a_malformed_request_id_is_replaced(client):
    response = client.get("/", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


@pytest.mark.django_db
def test_admin_login_page_works_for_the_email_user_model(client):
    User.objects.create_superuser(email="boss@example.com", password="s3cret-pass-phrase")
    assert client.login(email="boss@example.com", password="s3cret-pass-phrase")
    assert client.get("/admin/accounts/user/").status_code == 200


@pytest.mark.django_db
def test_api_docs_and_schema_are_served_without_a_cdn(client):
    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "swagger-ui" in html
    assert not re.search(r"(src|href)=\"https?://", html)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for documented in ("/api/v1/datasets/", "/api/v1/trainings/", "/api/v1/images/", "/api/v1/me/"):
        assert documented in paths
