"""API errors rendered as RFC 7807 problem details, like the real API's error bodies."""

from __future__ import annotations

from typing import Any

TITLES = {
    400: "Bad Request",
    401: "Unauthenticated",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    410: "Gone",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class ApiError(Exception):
    """Raised anywhere in request handling; the server turns it into a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        include_title: bool = True,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or TITLES.get(status, "Error")
        self.headers = headers or {}
        self.extra = extra or {}
        # A few recorded bodies (404 training destination) carry no title; keep them verbatim.
        self.include_title = include_title

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        if self.include_title:
            body["title"] = self.title
        body["detail"] = self.detail
        body["status"] = self.status
        body.update(self.extra)
        return body


def not_found(detail: str = "The requested resource could not be found.") -> ApiError:
    return ApiError(404, detail)


def validation_error(problems: list[tuple[str, str, str]]) -> ApiError:
    """422 in the real API's style: one "- input.field: message" line per problem.

    `problems` holds (field, line prefix, message); the machine-readable copy under
    `invalid_fields` lets a consumer show the message next to the right form field.
    """
    lines = [f"- {prefix}: {message}" for _field, prefix, message in problems]
    return ApiError(
        422,
        "\n".join(lines),
        title="Input validation failed",
        extra={
            "invalid_fields": [
                {"field": field, "message": message} for field, _prefix, message in problems
            ]
        },
    )
