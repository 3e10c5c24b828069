"""Endpoints and their deliveries, read-only for staff (support: why did a delivery fail?).
Secrets are never shown."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Event, EventDelivery, EventEndpoint


@admin.register(EventEndpoint)
class EventEndpointAdmin(ReadOnlyAdmin):
    deletable = True  # staff may clear what misbehaves
    list_display = ["url", "owner", "is_enabled", "consecutive_failures", "created_at"]
    list_filter = ["is_enabled"]
    search_fields = ["url", "owner__email"]
    exclude = ["secret", "previous_secret"]


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    deletable = True  # staff may clear what misbehaves
    list_display = ["id", "endpoint", "status", "attempts", "response_status", "created_at"]
    list_filter = ["status"]
    search_fields = ["endpoint__url", "owner__email", "event__id"]
    raw_id_fields = ["event", "endpoint", "owner", "replay_of"]


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    deletable = True  # staff may clear what misbehaves
    list_display = ["id", "type", "owner", "created_at"]
    list_filter = ["type"]
    search_fields = ["id", "owner__email"]
    raw_id_fields = ["owner"]
