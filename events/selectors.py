"""Reads of the events app; every one is scoped to the owner (another user's object is a 404)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from core.exceptions import NotFound

from .models import PING, Event, EventDelivery, EventEndpoint


def event_endpoint_list(*, user) -> QuerySet[EventEndpoint]:
    return EventEndpoint.objects.filter(owner=user)


def event_endpoint_get(*, user, endpoint_id) -> EventEndpoint:
    try:
        return event_endpoint_list(user=user).get(pk=endpoint_id)
    except (EventEndpoint.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("No such endpoint among yours.") from error


def event_delivery_list(*, user, endpoint: EventEndpoint) -> QuerySet[EventDelivery]:
    """An endpoint's delivery log, newest first (with each delivery's event)."""
    return EventDelivery.objects.filter(owner=user, endpoint=endpoint).select_related("event")


def event_delivery_get(*, user, endpoint_id, delivery_id) -> EventDelivery:
    try:
        return EventDelivery.objects.select_related("event", "endpoint").get(
            pk=delivery_id, endpoint_id=endpoint_id, owner=user
        )
    except (EventDelivery.DoesNotExist, ValueError, ValidationError) as error:
        raise NotFound("No such delivery among yours.") from error


def event_stream_list(*, user, after_seq: int, limit: int = 100) -> list[Event]:
    """The user's events after `after_seq`, oldest first (what the stream sends next)."""
    events = Event.objects.filter(owner=user, seq__gt=after_seq).exclude(type=PING)
    return list(events.order_by("seq")[:limit])


def event_stream_position(*, user, last_event_id: str | None) -> int:
    """Where a stream starts: after the event the client saw last, or after the newest one
    (a client without Last-Event-ID, or with one no longer kept, starts from now)."""
    events = Event.objects.filter(owner=user)
    if last_event_id:
        seen = events.filter(id=last_event_id).values_list("seq", flat=True).first()
        if seen is not None:
            return seen
    return events.order_by("-seq").values_list("seq", flat=True).first() or 0
