"""API-wide pieces: one error shape, pagination, default permissions.

Every error body has a `detail` string and a `code`; a 400 also has `errors`, mapping each
field to its messages (`non_field_errors` for the rest).
"""

import logging

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, status
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
