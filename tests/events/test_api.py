"""The endpoints API: the secret is shown once (at creation and rotation), input is checked by
field, lists are the caller's and paginated, a test event reaches the endpoint."""

from __future__ import annotations

import pytest
from standardwebhooks import Webhook

from events.models import EventDelivery, EventEndpoint
from events.services import event_publish

pytestmark = pytest.mark.django_db

URL = "/api/v1/event-endpoints/"


def test_creating_shows_the_secret_once(owner, as_user, receiver):
    client = as_user(owner)
    response = client.post(
        URL,
        {
            "url": receiver.url,
            "event_types": ["training.failed", "export.ready"],
            "description": "CI",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["export.ready", "training.failed"]
    assert created["is_enabled"] is True and created["disabled_reason"] == ""
    assert EventEndpoint.objects.get(pk=created["id"]).secret == created["secret"]

    shown = client.get(f"{URL}{created['id']}/").json()
    assert "secret" not in shown
    listed = client.get(URL).json()
    assert [row["id"] for row in listed["results"]] == [created["id"]]
    assert "secret" not in listed["results"][0]


def test_rotating_returns_a_new_secret_once(owner, as_user, endpoint_for):
    endpoint = endpoint_for("https://hooks.example.com/in")
    old_secret = endpoint.secret
    response = as_user(owner).post(f"{URL}{endpoint.id}/rotate-secret/")
    assert response.status_code == 200
    secret = response.json()["secret"]
    assert secret.startswith("whsec_") and secret != old_secret
    endpoint.refresh_from_db()
    assert (endpoint.secret, endpoint.previous_secret) == (secret, old_secret)
    assert response.json()["previous_secret_expires_at"]
    assert "secret" not in as_user(owner).get(f"{URL}{endpoint.id}/").json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"event_types": ["export.ready"]}, "url"),
        ({"url": "https://hooks.example.com/in"}, "event_types"),
        ({"url": "https://hooks.example.com/in", "event_types": []}, "event_types"),
        ({"url": "https://hooks.example.com/in", "event_types": ["image.liked"]}, "event_types"),
        ({"url": "not a url", "event_types": ["export.ready"]}, "url"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(owner, as_user, body, field):
    response = as_user(owner).post(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not EventEndpoint.objects.exists()


def test_a_user_has_a_limited_number_of_endpoints(owner, as_user, settings):
    settings.EVENTS_MAX_ENDPOINTS_PER_USER = 2
    client = as_user(owner)
    body = {"url": "https://hooks.example.com/in", "event_types": ["export.ready"]}
    assert [client.post(URL, body, format="json").status_code for _ in range(3)] == [201, 201, 403]


def test_updating_and_deleting(owner, as_user, endpoint_for):
    endpoint = endpoint_for("https://hooks.example.com/in")
    client = as_user(owner)
    response = client.patch(
        f"{URL}{endpoint.id}/",
        {"url": "https://other.example.com/hooks", "event_types": ["image.held"]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["url"] == "https://other.example.com/hooks"
    assert response.json()["event_types"] == ["image.held"]
    response = client.patch(f"{URL}{endpoint.id}/", {"is_enabled": False}, format="json")
    assert response.json()["is_enabled"] is False
    assert response.json()["disabled_reason"] == "Disabled by you."
    assert client.delete(f"{URL}{endpoint.id}/").status_code == 204
    assert not EventEndpoint.objects.exists()


def test_lists_are_the_callers_and_paginated(owner, other_user, as_user, endpoint_for):
    mine = endpoint_for("https://hooks.example.com/in")
    endpoint_for("https://hooks.example.com/theirs", user=other_user)
    for _ in range(3):
        event_publish(user=owner, type="export.ready", data={})
    client = as_user(owner)
    assert [row["id"] for row in client.get(URL).json()["results"]] == [str(mine.id)]

    page = client.get(f"{URL}{mine.id}/deliveries/?page_size=2").json()
    assert len(page["results"]) == 2 and page["next"]
    rest = client.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None
    row = page["results"][0]
    assert set(row) >= {
        "id",
        "event_id",
        "event_type",
        "status",
        "attempts",
        "response_status",
        "next_attempt_at",
        "last_error",
    }
    assert (row["status"], row["attempts"], row["event_type"]) == ("pending", 0, "export.ready")


def test_ping_sends_a_test_event_to_that_endpoint_only(
    owner, as_user, make_receiver, endpoint_for, django_capture_on_commit_callbacks
):
    pinged, other = make_receiver(), make_receiver()
    endpoint = endpoint_for(pinged.url)
    endpoint_for(other.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(f"{URL}{endpoint.id}/ping/")
    assert response.status_code == 202
    [request] = pinged.wait_for(1)
    payload = Webhook(endpoint.secret).verify(request.body, request.headers)
    assert payload["type"] == "ping" and payload["data"]["endpoint_id"] == str(endpoint.id)
    assert other.requests == []
    delivery = EventDelivery.objects.get(pk=response.json()["id"])
    assert delivery.status == EventDelivery.Status.SUCCEEDED


def test_ping_and_replay_refuse_a_disabled_endpoint(owner, as_user, endpoint_for):
    endpoint = endpoint_for("https://hooks.example.com/in")
    event_publish(user=owner, type="export.ready", data={})
    delivery = EventDelivery.objects.get(endpoint=endpoint)
    EventEndpoint.objects.filter(pk=endpoint.pk).update(is_enabled=False)
    client = as_user(owner)
    assert client.post(f"{URL}{endpoint.id}/ping/").status_code == 409
    replay = client.post(f"{URL}{endpoint.id}/deliveries/{delivery.id}/replay/")
    assert replay.status_code == 409 and replay.json()["code"] == "endpoint_disabled"


def test_anonymous_callers_get_401(api):
    assert api.get(URL).status_code == 401
    assert api.post(URL, {}, format="json").status_code == 401
    assert api.get("/api/v1/events/").status_code == 401


def test_the_schema_lists_the_events_api(owner, as_user):
    schema = as_user(owner).get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/event-endpoints/{endpoint_id}/deliveries/{delivery_id}/replay/" in paths
    assert "text/event-stream" in paths["/api/v1/events/"]["get"]["responses"]["200"]["content"]
