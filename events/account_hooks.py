"""What the accounts app needs from events: account erasure and data export.

A user's endpoints, events and delivery log go with the account. The export lists the endpoints
without their signing secrets (an export travels; a secret in it would sign for anyone).
"""

from .models import Event, EventDelivery, EventEndpoint


def erase_events_data(*, user) -> None:
    EventDelivery.objects.filter(owner=user).delete()
    EventEndpoint.objects.filter(owner=user).delete()
    Event.objects.filter(owner=user).delete()


def export_event_endpoints(*, user, archive) -> None:
    rows = [
        {
            "id": str(endpoint.id),
            "url": endpoint.url,
            "description": endpoint.description,
            "event_types": endpoint.event_types,
            "is_enabled": endpoint.is_enabled,
            "disabled_reason": endpoint.disabled_reason,
            "created_at": endpoint.created_at,
        }
        for endpoint in EventEndpoint.objects.filter(owner=user).order_by("created_at")
    ]
    if rows:
        archive.add_json("events/endpoints.json", rows)
