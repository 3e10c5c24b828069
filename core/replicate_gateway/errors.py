"""The project's errors for what Replicate answers, each with a message fit for a user."""

from __future__ import annotations

import httpx
from replicate.exceptions import ReplicateError

from core.exceptions import ExternalServiceError


class ReplicateServiceError(ExternalServiceError):
    """Replicate failed or refused; `status` is the HTTP status (None for network errors)."""

    def __init__(self, message: str, *, status: int | None = None, detail: str | None = None):
        super().__init__(message)
        self.status = status
        self.detail = detail


class ReplicateInvalidInput(ReplicateServiceError):
    status_code = 400
    code = "invalid_replicate_input"


class ReplicateNotFound(ReplicateServiceError):
    status_code = 404
    code = "replicate_not_found"


class ReplicateUnavailable(ReplicateServiceError):
    """Busy, down or unreachable: worth trying again later."""

    status_code = 503
    code = "replicate_unavailable"


class ReplicateUnconfirmed(ReplicateUnavailable):
    """A create whose answer never came (a timeout, a broken connection, a 5xx): it may have
    taken effect on Replicate. Look the job up before creating it again."""

    code = "replicate_unconfirmed"


class ReplicateConfigurationError(ReplicateServiceError):
    """Our token or account is wrong: an operator must act, the user cannot."""

    status_code = 502
    code = "replicate_misconfigured"


class WebhookRejected(Exception):
    """A webhook whose signature, age or shape is not acceptable."""


def translate(error: Exception) -> ReplicateServiceError:
    if isinstance(error, ReplicateError):
        status, detail = error.status, (error.detail or error.title or "").strip()
        if status == 422 or status == 400:
            return ReplicateInvalidInput(
                f"Replicate rejected the request: {detail or 'invalid input'}",
                status=status,
                detail=detail,
            )
        if status in (401, 403):
            return ReplicateConfigurationError(
                "The image service refused our credentials. An administrator has to fix this.",
                status=status,
                detail=detail,
            )
        if status == 404:
            return ReplicateNotFound(
                detail or "Replicate does not know this object.", status=status, detail=detail
            )
        if status == 429:
            return ReplicateUnavailable(
                "The image service is busy right now. Please try again in a minute.",
                status=status,
                detail=detail,
            )
        if status is not None and status >= 500:
            return ReplicateUnavailable(
                "The image service is having trouble right now. Please try again shortly.",
                status=status,
                detail=detail,
            )
        return ReplicateServiceError(
            f"The image service refused the request: {detail or status}",
            status=status,
            detail=detail,
        )
    if isinstance(error, httpx.TimeoutException):
        return ReplicateUnavailable("The image service did not answer in time.")
    if isinstance(error, httpx.TransportError):
        return ReplicateUnavailable("The image service could not be reached.")
    return ReplicateServiceError(f"Unexpected answer from the image service: {error}")
