"""The events API: endpoints (webhook subscriptions), their delivery log, and the event stream.

Endpoints: list, create (the secret is shown once), read, change, delete, rotate the secret
(the new one shown once), send a test event (`ping`); the delivery log of an endpoint, and
replaying a delivery. `GET /api/v1/events/` is a Server-Sent Events stream of the caller's
events (events.stream).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from core.schema import CONFLICT, CREATE_ERRORS, ERRORS

from . import selectors, services, stream
from .models import EventDelivery, EventEndpoint, EventType


def _paginate(view: APIView, queryset, serializer_class) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)


class EndpointOutput(serializers.ModelSerializer):
    class Meta:
        model = EventEndpoint
        fields = [
            "id",
            "url",
            "description",
            "event_types",
            "is_enabled",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "consecutive_failures",
            "last_success_at",
            "created_at",
            "updated_at",
        ]


class EndpointWithSecretOutput(EndpointOutput):
    secret = serializers.CharField(
        help_text="The signing secret (Standard Webhooks, whsec_…). Shown only now: keep it."
    )

    class Meta(EndpointOutput.Meta):
        fields = [*EndpointOutput.Meta.fields, "secret"]


class DeliveryOutput(serializers.ModelSerializer):
    event_id = serializers.CharField(source="event.id")
    event_type = serializers.CharField(source="event.type")
    endpoint = serializers.UUIDField(source="endpoint_id")
    replay_of = serializers.UUIDField(source="replay_of_id", allow_null=True)

    class Meta:
        model = EventDelivery
        fields = [
            "id",
            "event_id",
            "event_type",
            "endpoint",
            "replay_of",
            "status",
            "attempts",
            "response_status",
            "last_error",
            "duration_ms",
            "last_attempt_at",
            "next_attempt_at",
            "created_at",
            "completed_at",
        ]


def _event_types_field(**kwargs):
    return serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.values), allow_empty=False, **kwargs
    )


class EventEndpointListApi(APIView):
    pagination_class = DefaultCursorPagination

    class InputSerializer(serializers.Serializer):
        url = serializers.CharField(max_length=500, help_text="https:// only.")
        event_types = _event_types_field()
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)

    @extend_schema(
        tags=["events"],
        operation_id="endpoints_list",
        summary="List your event endpoints",
        description=(
            "Newest first. Secrets are never listed: they are shown once, when an endpoint is "
            "created or its secret rotated."
        ),
        responses={200: EndpointOutput(many=True), **ERRORS},
    )
    def get(self, request):
        endpoints = selectors.event_endpoint_list(user=request.user)
        return _paginate(self, endpoints, EndpointOutput)

    @extend_schema(
        tags=["events"],
        operation_id="endpoints_create",
        summary="Register an event endpoint",
        description=(
            "An HTTPS URL and the event types it receives. The answer holds the endpoint's signing"
            " secret (`whsec_…`), shown only now: deliveries are signed with it the Standard "
            "Webhooks way."
        ),
        request=InputSerializer,
        responses={201: EndpointWithSecretOutput, **CREATE_ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.event_endpoint_create(user=request.user, **data.validated_data)
        return Response(EndpointWithSecretOutput(endpoint).data, status=status.HTTP_201_CREATED)


class EventEndpointDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        url = serializers.CharField(max_length=500, required=False)
        event_types = _event_types_field(required=False)
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        is_enabled = serializers.BooleanField(
            required=False, help_text="true enables a disabled endpoint again."
        )

    @extend_schema(
        tags=["events"],
        operation_id="endpoint_get",
        summary="Get an event endpoint",
        description=(
            "Its URL, event types, whether it is enabled (and why not), and its recent failures."
        ),
        responses={200: EndpointOutput, **ERRORS},
    )
    def get(self, request, endpoint_id):
        endpoint = selectors.event_endpoint_get(user=request.user, endpoint_id=endpoint_id)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(
        tags=["events"],
        operation_id="endpoint_update",
        summary="Change an event endpoint",
        description=(
            "Change the URL, the event types or the description; `is_enabled: true` enables an "
            "endpoint that was disabled after failing."
        ),
        request=InputSerializer,
        responses={200: EndpointOutput, **ERRORS},
    )
    def patch(self, request, endpoint_id):
        endpoint = selectors.event_endpoint_get(user=request.user, endpoint_id=endpoint_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        endpoint = services.event_endpoint_update(endpoint=endpoint, **data.validated_data)
        return Response(EndpointOutput(endpoint).data)

    @extend_schema(
        tags=["events"],
        operation_id="endpoint_delete",
        summary="Delete an event endpoint",
        description=("Nothing more is delivered to it; its delivery log goes with it."),
        responses={204: None, **ERRORS},
    )
    def delete(self, request, endpoint_id):
        endpoint = selectors.event_endpoint_get(user=request.user, endpoint_id=endpoint_id)
        services.event_endpoint_delete(endpoint=endpoint)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EventEndpointRotateSecretApi(APIView):
    class OutputSerializer(serializers.Serializer):
        secret = serializers.CharField(help_text="The new secret, shown only now.")
        previous_secret_expires_at = serializers.DateTimeField(
            help_text="Until then the old secret signs too (a second signature)."
        )

    @extend_schema(
        tags=["events"],
        operation_id="endpoint_secret_rotate",
        summary="Rotate an endpoint's secret",
        description=(
            "Returns the new secret, shown only now. Until `previous_secret_expires_at` deliveries"
            " carry a signature with each secret, so a receiver can switch without losing events."
        ),
        request=None,
        responses={200: OutputSerializer, **ERRORS},
    )
    def post(self, request, endpoint_id):
        endpoint = selectors.event_endpoint_get(user=request.user, endpoint_id=endpoint_id)
        endpoint = services.event_endpoint_secret_rotate(endpoint=endpoint)
        return Response(self.OutputSerializer(endpoint).data)


class EventEndpointPingApi(APIView):
    @extend_schema(
        tags=["events"],
        operation_id="endpoint_ping",
        summary="Send a test event",
        description=(
            "Queues a `ping` event to this endpoint; follow it in the delivery log. 409 when the "
            "endpoint is disabled."
        ),
        request=None,
        responses={202: DeliveryOutput, **ERRORS, **CONFLICT},
    )
    def post(self, request, endpoint_id):
        endpoint = selectors.event_endpoint_get(user=request.user, endpoint_id=endpoint_id)
        delivery = services.event_endpoint_ping(endpoint=endpoint)
        return Response(DeliveryOutput(delivery).data, status=status.HTTP_202_ACCEPTED)


class EventDeliveryListApi(APIView):
    pagination_class = DefaultCursorPagination

    @extend_schema(
        tags=["events"],
        operation_id="endpoint_deliveries_list",
        summary="List an endpoint's deliveries",
        description=(
            "Newest first: each event sent to this endpoint, with its status, attempts, last "
            "response code and next attempt."
        ),
        responses={200: DeliveryOutput(many=True), **ERRORS},
    )
    def get(self, request, endpoint_id):
        endpoint = selectors.event_endpoint_get(user=request.user, endpoint_id=endpoint_id)
        deliveries = selectors.event_delivery_list(user=request.user, endpoint=endpoint)
        return _paginate(self, deliveries, DeliveryOutput)


class EventDeliveryDetailApi(APIView):
    @extend_schema(
        tags=["events"],
        operation_id="endpoint_delivery_get",
        summary="Get a delivery",
        description=("One delivery of an event to this endpoint, with its attempts."),
        responses={200: DeliveryOutput, **ERRORS},
    )
    def get(self, request, endpoint_id, delivery_id):
        delivery = selectors.event_delivery_get(
            user=request.user, endpoint_id=endpoint_id, delivery_id=delivery_id
        )
        return Response(DeliveryOutput(delivery).data)


class EventDeliveryReplayApi(APIView):
    @extend_schema(
        tags=["events"],
        operation_id="endpoint_delivery_replay",
        summary="Replay a delivery",
        description=(
            "Sends the same event again, as a new delivery linked to this one. 409 when the "
            "endpoint is disabled."
        ),
        request=None,
        responses={202: DeliveryOutput, **ERRORS, **CONFLICT},
    )
    def post(self, request, endpoint_id, delivery_id):
        delivery = selectors.event_delivery_get(
            user=request.user, endpoint_id=endpoint_id, delivery_id=delivery_id
        )
        replay = services.event_delivery_replay(delivery=delivery)
        return Response(DeliveryOutput(replay).data, status=status.HTTP_202_ACCEPTED)


class EventStreamApi(APIView):
    """Server-Sent Events: the caller's events as they happen (`event:` is the type, `id:` the
    event's id). Each connection ends after EVENTS_STREAM_SECONDS with a `retry:` hint; the
    client reconnects with `Last-Event-ID` and gets what it missed first."""

    # The answer is text/event-stream whatever the Accept header says; errors are JSON.
    content_negotiation_class = stream.FirstRendererNegotiation

    @extend_schema(
        tags=["events"],
        operation_id="events_stream",
        summary="Follow your events live (Server-Sent Events)",
        description=(
            "A `text/event-stream` of the signed-in person's events as they happen: `event:` is "
            "the type, `id:` the event's id, `data:` the same JSON a webhook carries. The server "
            "ends each connection after a minute with a `retry:` hint; reconnect with "
            "`Last-Event-ID` to get first what you missed."
        ),
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                required=False,
                description="Resume after this event (or `?last_event_id=`).",
            )
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                OpenApiTypes.STR, description="The event stream."
            ),
            **ERRORS,
            503: OpenApiResponse(description="Too many streams open: see `Retry-After`."),
        },
    )
    def get(self, request):
        last_event_id = request.headers.get("Last-Event-ID") or request.query_params.get(
            "last_event_id"
        )
        return stream.event_stream_response(user=request.user, last_event_id=last_event_id)
