import pytest
from django.test import override_settings
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import LimitExceeded, NotFound


class _Input(serializers.Serializer):
    name = serializers.CharField(max_length=5)
    count = serializers.IntegerField(min_value=1)


class _Validate(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        _Input(data=request.data).is_valid(raise_exception=True)
        return Response({"ok": True})


class _Domain(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        if request.query_params.get("kind") == "limit":
            raise LimitExceeded("You have used today's 50 generations.", retry_after=3600)
        raise NotFound("No such model.")


class _Crash(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internals")


def _crash_outside_drf(request):
    raise RuntimeError("secret internals")


class _Private(APIView):
    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("validate/", _Validate.as_view()),
    path("domain/", _Domain.as_view()),
    path("crash/", _Crash.as_view()),
    path("private/", _Private.as_view()),
    path("api/v1/crash-raw/", _crash_outside_drf),
]
handler500 = "core.views.server_error"

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def test_validation_errors_name_each_field(client):
    response = client.post(
        "/validate/", {"name": "far too long", "count": 0}, content_type="application/json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["errors"]) == {"name", "count"}
    assert body["detail"].startswith(("name:", "count:"))


def test_domain_errors_have_detail_and_status(client):
    response = client.get("/domain/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No such model.", "code": "not_found"}


def test_limits_that_reset_answer_429_with_retry_after(client):
    response = client.get("/domain/?kind=limit")
    assert response.status_code == 429
    assert response["Retry-After"] == "3600"
    assert "50 generations" in response.json()["detail"]


@override_settings(DEBUG=False)
def test_an_unexpected_error_is_json_without_internals(client):
    response = client.get("/crash/", HTTP_X_REQUEST_ID="crash-req-0001")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error"
    assert body["request_id"] == "crash-req-0001"
    assert "secret internals" not in response.content.decode()


def test_anonymous_requests_are_refused_with_the_same_shape(client):
    response = client.get("/private/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.urls("config.urls")
def test_an_api_url_that_matches_no_route_is_a_json_404(client):
    # A malformed id (here not a UUID) never reaches a view: the resolver's 404 must still
    # have the API's shape, not the HTML page.
    response = client.get("/api/v1/images/null,null/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


@override_settings(DEBUG=False)
def test_a_crash_outside_drf_under_api_is_json(client):
    client.raise_request_exception = False
    response = client.get("/api/v1/crash-raw/", HTTP_X_REQUEST_ID="raw-crash-0001")
    assert response.status_code == 500
    body = response.json()
    assert body["code"] == "server_error"
    assert body["request_id"] == "raw-crash-0001"
    assert "secret internals" not in response.content.decode()
