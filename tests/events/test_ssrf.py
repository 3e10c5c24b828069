"""Deliveries never reach our own network: private, loopback, link-local and other non-public
addresses are refused (by literal, and by what a name resolves to), only https is taken,
redirects are not followed, and every attempt has a timeout."""

from __future__ import annotations

import ipaddress

import pytest

from events.http import address_is_public
from events.models import EventDelivery
from events.services import event_delivery_attempt, event_publish

pytestmark = pytest.mark.django_db


@pytest.fixture
def production_rules(settings):
    settings.EVENTS_ALLOW_PRIVATE_ADDRESSES = False


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),  # noqa: S104 (an address refused, nothing binds)
        ("224.0.0.1", False),
        ("::1", False),
        ("fe80::1", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("93.184.216.34", True),
        ("2606:2800:220:1:248:1893:25c8:1946", True),
    ],
)
def test_which_addresses_are_public(address, public):
    assert address_is_public(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/in", "must start with https://"),
        ("ftp://hooks.example.com/in", "must start with https://"),
        ("https://127.0.0.1/in", "private or local address"),
        ("https://10.0.0.7:8443/in", "private or local address"),
        ("https://169.254.169.254/latest/meta-data", "private or local address"),
        ("https://[::1]/in", "private or local address"),
        ("https://[::ffff:127.0.0.1]/in", "private or local address"),
        ("https://localhost/in", "private or local address"),  # a name that resolves to 127.0.0.1
        ("https://user:secret@hooks.example.com/in", "user name or password"),
        ("https:///in", "not a valid URL"),
    ],
)
def test_an_endpoint_on_a_refused_url_is_not_created(
    production_rules, owner, as_user, url, message
):
    response = as_user(owner).post(
        "/api/v1/event-endpoints/", {"url": url, "event_types": ["export.ready"]}, format="json"
    )
    assert response.status_code == 400, response.json()
    assert message in response.json()["errors"]["url"][0]


def test_a_name_that_resolves_to_loopback_is_refused_at_delivery_and_nothing_is_sent(
    settings, owner, receiver, endpoint_for, django_capture_on_commit_callbacks
):
    """The endpoint was accepted (say its name resolved to a public address then): each attempt
    resolves again, and a name that now points at 127.0.0.1 gets nothing."""
    endpoint = endpoint_for(f"https://localhost:{receiver.port}/hooks")
    settings.EVENTS_ALLOW_PRIVATE_ADDRESSES = False
    with django_capture_on_commit_callbacks(execute=True):
        event = event_publish(user=owner, type="export.ready", data={})
    delivery = EventDelivery.objects.get(event=event, endpoint=endpoint)
    assert delivery.status == EventDelivery.Status.PENDING  # retried later, in case it changes
    assert delivery.last_error == "The URL points at a private or local address."
    assert delivery.response_status is None
    assert receiver.requests == []


def test_plain_http_is_refused_at_delivery_when_private_addresses_are(
    settings, owner, receiver, endpoint_for
):
    endpoint = endpoint_for(receiver.url)
    settings.EVENTS_ALLOW_PRIVATE_ADDRESSES = False
    event = event_publish(user=owner, type="export.ready", data={})
    delivery = EventDelivery.objects.get(event=event, endpoint=endpoint)
    event_delivery_attempt(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert delivery.last_error == "The URL must start with https://."
    assert receiver.requests == []


def test_redirects_are_not_followed(owner, make_receiver, endpoint_for):
    elsewhere = make_receiver()
    redirecting = make_receiver(statuses=[307], location=elsewhere.url)
    endpoint = endpoint_for(redirecting.url)
    event = event_publish(user=owner, type="export.ready", data={})
    delivery = EventDelivery.objects.get(event=event, endpoint=endpoint)
    event_delivery_attempt(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert delivery.response_status == 307
    assert "redirects are not followed" in delivery.last_error
    assert delivery.status == EventDelivery.Status.PENDING
    assert len(redirecting.requests) == 1 and elsewhere.requests == []


def test_an_endpoint_that_does_not_answer_in_time_is_a_failed_attempt(
    settings, owner, make_receiver, endpoint_for
):
    settings.EVENTS_DELIVERY_TIMEOUT_SECONDS = 0.3
    slow = make_receiver(pause_seconds=2)
    endpoint = endpoint_for(slow.url)
    event = event_publish(user=owner, type="export.ready", data={})
    delivery = EventDelivery.objects.get(event=event, endpoint=endpoint)
    event_delivery_attempt(delivery_id=delivery.id)
    delivery.refresh_from_db()
    assert delivery.last_error == "No answer within 0.3 seconds."
    assert delivery.duration_ms < 1500
    assert delivery.status == EventDelivery.Status.PENDING
