"""Builders for other apps' tests: one of every events thing a user can own."""

from __future__ import annotations

from events.models import EventEndpoint, EventType
from events.services import event_endpoint_ping, event_publish


def events_one_of_everything(user) -> EventEndpoint:
    """An endpoint (subscribed to everything), an event with its delivery, and a test ping."""
    endpoint = EventEndpoint.objects.create(
        owner=user,
        url=f"https://hooks.example.com/{user.pk}",
        description="My CI",
        event_types=list(EventType.values),
    )
    event_publish(user=user, type="training.succeeded", data={"id": "r-1"})
    event_endpoint_ping(endpoint=endpoint)
    return endpoint
