"""Checks of request bodies and headers that several `/v1` resources share.

Each check returns problems as (field, line prefix, message) for `errors.validation_error`, or
raises the `ApiError` the real API answers with.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..errors import ApiError
from ..server import Request
from ..settings import OUTCOMES
from ..webhooks import EVENTS

# `owner/name` or `owner/name:version`: a model reference in `version` or `destination`.
MODEL_REF = re.compile(r"^(?P<owner>[^/:\s]+)/(?P<name>[^/:\s]+)(?::(?P<version>\S+))?$")

Problem = tuple[str, str, str]


def object_body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


def unknown_keys(body: dict[str, Any], allowed: set[str]) -> list[Problem]:
    return [
        (key, "(root)", f"Additional property {key} is not allowed")
        for key in body
        if key not in allowed
    ]


def _is_http_url(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def webhook_problems(body: dict[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    for key in ("webhook", "webhook_completed"):
        if body.get(key) is not None and not _is_http_url(body[key]):
            problems.append((key, key, "Does not match format 'uri' (an http(s) URL is needed)"))
    events = body.get("webhook_events_filter")
    if events is not None:
        if not isinstance(events, list):
            problems.append(
                ("webhook_events_filter", "webhook_events_filter", "Invalid type. Expected: array")
            )
        else:
            allowed = ", ".join(f'"{event}"' for event in EVENTS)
            for index, event in enumerate(events):
                if event not in EVENTS:
                    field = f"webhook_events_filter.{index}"
                    problems.append(
                        (
                            "webhook_events_filter",
                            field,
                            f"{field} must be one of the following: {allowed}",
                        )
                    )
    return problems


def sim_overrides(request: Request) -> dict[str, Any]:
    """Per-request control for tests: X-Sim-Outcome, X-Sim-Error, X-Sim-Duration."""
    overrides: dict[str, Any] = {}
    outcome = (request.headers.get("X-Sim-Outcome") or "").strip().lower()
    if outcome:
        if outcome not in OUTCOMES:
            raise ApiError(400, f"X-Sim-Outcome must be one of {list(OUTCOMES[1:])}")
        overrides["outcome"] = outcome
    error = request.headers.get("X-Sim-Error")
    if error:
        overrides["error"] = error
    duration = request.headers.get("X-Sim-Duration")
    if duration:
        try:
            overrides["duration"] = float(duration)
        except ValueError as exc:
            raise ApiError(400, "X-Sim-Duration must be a number of seconds") from exc
        if overrides["duration"] < 0:
            raise ApiError(400, "X-Sim-Duration must not be negative")
    return overrides
