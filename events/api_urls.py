"""Included under /api/v1/ in the `api` namespace."""

from django.urls import path

from . import apis

urlpatterns = [
    path("events/", apis.EventStreamApi.as_view(), name="events-stream"),
    path("event-endpoints/", apis.EventEndpointListApi.as_view(), name="event-endpoints"),
    path(
        "event-endpoints/<uuid:endpoint_id>/",
        apis.EventEndpointDetailApi.as_view(),
        name="event-endpoint-detail",
    ),
    path(
        "event-endpoints/<uuid:endpoint_id>/rotate-secret/",
        apis.EventEndpointRotateSecretApi.as_view(),
        name="event-endpoint-rotate-secret",
    ),
    path(
        "event-endpoints/<uuid:endpoint_id>/ping/",
        apis.EventEndpointPingApi.as_view(),
        name="event-endpoint-ping",
    ),
    path(
        "event-endpoints/<uuid:endpoint_id>/deliveries/",
        apis.EventDeliveryListApi.as_view(),
        name="event-endpoint-deliveries",
    ),
    path(
        "event-endpoints/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/",
        apis.EventDeliveryDetailApi.as_view(),
        name="event-delivery-detail",
    ),
    path(
        "event-endpoints/<uuid:endpoint_id>/deliveries/<uuid:delivery_id>/replay/",
        apis.EventDeliveryReplayApi.as_view(),
        name="event-delivery-replay",
    ),
]
