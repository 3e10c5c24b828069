"""The HTTP headers of the API that the schema declares beside the bodies: `Idempotency-Key`
on requests that start work, `ETag` / `If-None-Match` / `If-Match`, and the rate-limit headers.

They are added by middleware (core.idempotency, core.conditional, accounts.throttles), which the
views' own schemas cannot see; this drf-spectacular post-processing hook declares them on the
operations they apply to, from the same settings the middleware reads.
"""

from __future__ import annotations

from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver

from .conditional import CHANGE_METHODS
from .idempotency import HEADER, MAX_KEY_LENGTH, REPLAYED_HEADER

ERROR_REF = "#/components/schemas/Error"
OUR_ERROR_CODES = (
    "idempotency_key_invalid",
    "idempotency_key_in_use",
    "idempotency_key_reused",
    "precondition_failed",
)

_RATE_LIMIT_HEADERS = {
    "RateLimit-Limit": "Requests allowed in the window of the most restrictive limit.",
    "RateLimit-Remaining": "Requests left in that window.",
    "RateLimit-Reset": "Seconds until the oldest counted request leaves the window.",
}


def _int_header(description: str) -> dict:
    return {"schema": {"type": "integer", "minimum": 0}, "description": description}


def _string_header(description: str) -> dict:
    return {"schema": {"type": "string"}, "description": description}


def _route_names() -> dict:
    """Each view class of the URLconf → its namespaced URL names."""
    names: dict = {}

    def walk(patterns, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = namespace
                if pattern.namespace:
                    inner = f"{namespace}:{pattern.namespace}" if namespace else pattern.namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                view_class = getattr(pattern.callback, "cls", None)
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                if view_class is not None:
                    names.setdefault(view_class, set()).add(name)

    walk(get_resolver().url_patterns, "")
    return names


def _error_response(result: dict, description: str) -> dict:
    response = {"description": description}
    if "Error" in result.get("components", {}).get("schemas", {}):
        response["content"] = {"application/json": {"schema": {"$ref": ERROR_REF}}}
    return response


def _add_response(result: dict, operation: dict, status: str, description: str) -> None:
    responses = operation.setdefault("responses", {})
    if status in responses:
        existing = responses[status].get("description", "")
        responses[status]["description"] = f"{existing} {description}".strip()
        return
    responses[status] = _error_response(result, description)


def _add_parameter(operation: dict, name: str, schema: dict, description: str) -> None:
    parameters = operation.setdefault("parameters", [])
    if any(p.get("in") == "header" and p.get("name") == name for p in parameters):
        return
    parameters.append(
        {
            "in": "header",
            "name": name,
            "required": False,
            "schema": schema,
            "description": description,
        }
    )


def _json_success(operation: dict) -> dict | None:
    response = operation.get("responses", {}).get("200")
    if response and "application/json" in response.get("content", {}):
        return response
    return None


def _idempotent(result: dict, operation: dict) -> None:
    _add_parameter(
        operation,
        HEADER,
        {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
        "A key of your choice (a UUID) that makes retrying this request safe: a retry with the "
        "same key and body within 24 hours gets the first answer again, and nothing is spent "
        "or started twice. Keys are yours alone. A 5xx answer is not kept: retry it.",
    )
    for status, response in operation.get("responses", {}).items():
        if status.startswith("2"):
            response.setdefault("headers", {})[REPLAYED_HEADER] = _string_header(
                "`true` when this is the stored answer to an earlier request with the same key."
            )
    _add_response(
        result,
        operation,
        "400",
        "An empty or too long `Idempotency-Key` (`idempotency_key_invalid`).",
    )
    _add_response(
        result,
        operation,
        "409",
        "A request with this `Idempotency-Key` is still "
        "running (`idempotency_key_in_use`): retry after `Retry-After`.",
    )
    _add_response(
        result,
        operation,
        "422",
        "This `Idempotency-Key` was used with another request (`idempotency_key_reused`).",
    )


def _conditional_get(operation: dict) -> None:
    success = _json_success(operation)
    if success is None:
        return
    success.setdefault("headers", {})["ETag"] = _string_header(
        "The version of this answer: send it as `If-None-Match` to be answered 304 while it "
        "has not changed, or as `If-Match` on a change."
    )
    _add_parameter(
        operation,
        "If-None-Match",
        {"type": "string"},
        "ETags of answers you have: 304 with no body while one of them is still current.",
    )
    operation["responses"]["304"] = {
        "description": "Not modified: the answer you have (its ETag) is still current.",
        "headers": {"ETag": _string_header("The current version.")},
    }


def _conditional_change(result: dict, operation: dict) -> None:
    success = _json_success(operation)
    if success is not None:
        success.setdefault("headers", {})["ETag"] = _string_header(
            "The version of the changed object."
        )
    _add_parameter(
        operation,
        "If-Match",
        {"type": "string"},
        "The ETag of the version you read: if the object changed since, nothing is changed and "
        "the answer is 412. `*`: any version.",
    )
    _add_response(
        result,
        operation,
        "412",
        "The object changed since you read it (`precondition_failed`): read it again, then retry.",
    )
    operation["responses"]["412"].setdefault("headers", {})["ETag"] = _string_header(
        "The current version."
    )


def _rate_limited(operation: dict) -> None:
    responses = operation.get("responses", {})
    if "429" not in responses:
        return  # no throttle applies to this operation
    for status, response in responses.items():
        if status.startswith("2") or status == "429":
            headers = response.setdefault("headers", {})
            for name, description in _RATE_LIMIT_HEADERS.items():
                headers[name] = _int_header(description)
    responses["429"]["headers"]["Retry-After"] = _int_header("Seconds to wait before retrying.")


def _our_error_codes(result: dict) -> None:
    """The codes these headers' errors carry, in the enum of the Error body's `code`."""
    schemas = result.get("components", {}).get("schemas", {})
    code = schemas.get("Error", {}).get("properties", {}).get("code", {})
    ref = code.get("$ref") or next(
        (item.get("$ref") for item in code.get("allOf", []) if "$ref" in item), None
    )
    target = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else code
    if "enum" in target:
        target["enum"] += [c for c in OUR_ERROR_CODES if c not in target["enum"]]


def api_headers_postprocess(result, generator, request, public):
    """drf-spectacular post-processing hook (SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"])."""
    route_names = _route_names()
    idempotent_routes = set(settings.IDEMPOTENT_ROUTES)
    for path, _regex, method, callback in getattr(generator, "endpoints", None) or []:
        operation = result.get("paths", {}).get(path, {}).get(method.lower())
        if operation is None:
            continue
        names = route_names.get(getattr(callback, "cls", None), set())
        if method == "POST" and names & idempotent_routes:
            _idempotent(result, operation)
        if method == "GET":
            _conditional_get(operation)
        if method in CHANGE_METHODS:
            _conditional_change(result, operation)
        _rate_limited(operation)
    _our_error_codes(result)
    return result
