"""API-wide pieces: one error shape, pagination, default permissions.

Every error body has a `detail` string and a `code`; a 400 also has `errors`, mapping each
field to its messages (`non_field_errors` for the rest).
"""

import logging
from urllib.parse import parse_qs, urlparse

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from core.broker import BROKER_ERRORS, BrokerUnavailable
from core.exceptions import DomainError, InvalidInput

logger = logging.getLogger(__name__)


class DefaultCursorPagination(CursorPagination):
    """Newest first, no OFFSET: pages stay fast and stable while rows are added."""

    ordering = "-created_at"
    page_size_query_param = "page_size"
    max_page_size = 100

    def get_paginated_response(self, data):
        next_link = self.get_next_link()
        return Response(
            {
                "next": next_link,
                "previous": self.get_previous_link(),
                "next_cursor": self._cursor_of(next_link),
                "has_more": next_link is not None,
                "results": data,
            }
        )

    def _cursor_of(self, link: str | None) -> str | None:
        if not link:
            return None
        return parse_qs(urlparse(link).query).get(self.cursor_query_param, [None])[0]

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "format": "uri", "nullable": True}
        return {
            "type": "object",
            "required": ["next", "previous", "next_cursor", "has_more", "results"],
            "properties": {
                "next": {
                    **link,
                    "description": "The next page (absolute URL), null on the last page.",
                    "example": "https://avatars.example.com/api/v1/images/?cursor=cD0yMDI2",
                },
                "previous": {**link, "description": "The previous page, null on the first."},
                "next_cursor": {
                    "type": "string",
                    "nullable": True,
                    "description": "Pass it as `cursor` to get the next page; null on the last.",
                    "example": "cD0yMDI2",
                },
                "has_more": {"type": "boolean", "description": "Whether a next page exists."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(
                    minimum=1, maximum=self.max_page_size, default=self.page_size or 30
                )
            if parameter["name"] == self.cursor_query_param:
                parameter["description"] = "`next_cursor` of the page before (left out: the first)."
        return parameters

    def decode_cursor(self, request):
        # DRF answers a cursor it cannot decode with 404; it is bad input, so a 400 naming it.
        try:
            return super().decode_cursor(request)
        except exceptions.NotFound:
            raise exceptions.ValidationError(
                {self.cursor_query_param: ["This cursor is not valid. Start from the first page."]}
            ) from None


def _field_errors(detail) -> dict:
    if isinstance(detail, dict):
        return {key: _flatten(value) for key, value in detail.items()}
    return {api_settings.NON_FIELD_ERRORS_KEY: _flatten(detail)}


def _flatten(value) -> list | dict:
    if isinstance(value, dict):
        return {key: _flatten(inner) for key, inner in value.items()}
    if isinstance(value, list):
        if value and all(isinstance(item, dict) for item in value):
            return [_flatten(item) for item in value]
        return [str(item) for item in value]
    return [str(value)]


def _first_message(errors) -> str:
    if isinstance(errors, dict):
        for key, value in errors.items():
            message = _first_message(value)
            if message:
                return message if key == api_settings.NON_FIELD_ERRORS_KEY else f"{key}: {message}"
    if isinstance(errors, list):
        for item in errors:
            message = _first_message(item)
            if message:
                return message
    if isinstance(errors, str):
        return errors
    return ""


def exception_handler(exc, context):
    if isinstance(exc, BROKER_ERRORS):
        # A task could not be sent after the write committed (the broker went down after the
        # service's `broker_ready_check`): 503 with Retry-After, as when the check refuses.
        logger.error("broker unavailable after a write: %r", exc)
        exc = BrokerUnavailable()
    if isinstance(exc, DomainError):
        body = {"detail": exc.message, "code": exc.code}
        if isinstance(exc, InvalidInput):
            body["errors"] = exc.errors
            body["detail"] = _first_message(exc.errors) or exc.message
        elif exc.field:
            body["errors"] = {exc.field: [exc.message]}
        headers = {}
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            headers["Retry-After"] = str(retry_after)
        return Response(body, status=exc.status_code, headers=headers)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        request = context.get("request")
        logger.exception("unhandled error in API view", exc_info=exc)
        return Response(
            {
                "detail": "Something went wrong on our side. Please try again.",
                "code": "server_error",
                "request_id": getattr(request, "request_id", None),
            },
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )

    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        response.data = {
            "detail": _first_message(errors) or "Invalid input.",
            "code": "invalid",
            "errors": errors,
        }
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = {"detail": str(detail), "code": code}
    return response


def api_not_found(request, *args, **kwargs):
    """Any path under /api/v1/ that names no operation: a JSON 404, never the HTML page, nor
    the redirect to the path with a slash that CommonMiddleware would answer (a client that
    follows it would turn its POST into a GET)."""
    hint = "" if request.path.endswith("/") else f" API paths end with a slash: {request.path}/"
    body = {"detail": f"Not found.{hint}", "code": "not_found"}
    return JsonResponse(body, status=404)


class JobMetricsOutput(serializers.Serializer):
    """Replicate's figures for a job that ran (empty before it ends)."""

    predict_time = serializers.FloatField(required=False, help_text="Seconds of GPU time.")
    total_time = serializers.FloatField(required=False, help_text="Seconds, queue included.")


class MessageOutput(serializers.Serializer):
    """An answer that only says what happened."""

    detail = serializers.CharField()

    class Meta:
        ref_name = "Message"


class _SchemaRange:
    """A number whose range the schema shows (`minimum`/`maximum`) while the service checks it,
    so that every problem of a request is reported at once, from one place of truth."""

    def __init__(self, *, schema_range: tuple[float, float], **kwargs):
        super().__init__(**kwargs)
        # Set after DRF's __init__: no validators of its own are added for them.
        self.min_value, self.max_value = schema_range


class RangedIntegerField(_SchemaRange, serializers.IntegerField):
    pass


class RangedFloatField(_SchemaRange, serializers.FloatField):
    pass
