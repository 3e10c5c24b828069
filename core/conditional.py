"""Conditional requests on the JSON API: `ETag` / `If-None-Match` (304) and `If-Match` (412).

- Every JSON answer of 200 to a GET (or HEAD) under /api/v1/, and to a PATCH or PUT, gets an
  `ETag`: a hash of its bytes (the same bytes give the same tag, so it is a strong validator).
  A GET whose `If-None-Match` names it answers 304 with no body. Files (pictures, zips: not
  JSON, often streamed) are left alone, as are the schema pages.
- A PATCH or PUT with `If-Match` is compared, before the view runs, with the ETag of what a GET
  of the same URL by the same caller answers now (the middleware makes that GET internally):
  another tag is a 412 `precondition_failed` and nothing changes. `If-Match: *` asks only that
  the resource exists. When that GET is not a 200 (not found, not allowed), the change is let
  through and the view answers as it would. Tags compare by their opaque part (a `W/` that a
  proxy added does not matter).

The check and the change are two steps: a change landing between them is not seen (the
window is one request's time); it stops the common lost update, two clients editing in turn.
The responses vary by caller: they say `Vary: Authorization` and are `private`.
"""

from __future__ import annotations

import copy
import hashlib

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags

API_PREFIX = "/api/v1/"
# Not data: the schema and its viewers.
SKIPPED_PREFIXES = ("/api/v1/schema/", "/api/v1/docs/", "/api/v1/redoc/")
CHANGE_METHODS = ("PATCH", "PUT")


def body_etag(content: bytes) -> str:
    return '"' + hashlib.sha256(content).hexdigest()[:32] + '"'


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def _is_json(response: HttpResponse) -> bool:
    content_type = response.get("Content-Type", "")
    return content_type.split(";", 1)[0].strip().endswith("json")


def _taggable(response: HttpResponse) -> bool:
    return response.status_code == 200 and not response.streaming and _is_json(response)


def _tag(response: HttpResponse) -> str | None:
    if not _taggable(response):
        return None
    if not response.has_header("ETag"):
        response["ETag"] = body_etag(response.content)
    patch_vary_headers(response, ("Authorization",))
    if not response.has_header("Cache-Control"):
        response["Cache-Control"] = "private, no-cache"
    return response["ETag"]


def _matches(header: str, etag: str) -> bool:
    tags = parse_etags(header)
    return "*" in tags or _opaque(etag) in {_opaque(tag) for tag in tags}


class ConditionalApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        path = request.path_info
        if not path.startswith(API_PREFIX) or path.startswith(SKIPPED_PREFIXES):
            return self.get_response(request)
        if request.method in CHANGE_METHODS and "If-Match" in request.headers:
            refused = self._precondition(request)
            if refused is not None:
                return refused
        response = self.get_response(request)
        if request.method in ("GET", "HEAD"):
            etag = _tag(response)
            wanted = request.headers.get("If-None-Match")
            if etag and wanted and _matches(wanted, etag):
                not_modified = HttpResponseNotModified()
                for header in ("ETag", "Cache-Control", "Vary", "X-Request-ID"):
                    if response.has_header(header):
                        not_modified[header] = response[header]
                return not_modified
        elif request.method in CHANGE_METHODS:
            _tag(response)
        return response

    def _precondition(self, request: HttpRequest) -> HttpResponse | None:
        current = self.get_response(_as_get(request))
        if current.status_code != 200 or not _is_json(current) or current.streaming:
            return None  # no representation to compare: the view answers the change itself
        etag = current["ETag"] if current.has_header("ETag") else body_etag(current.content)
        if _matches(request.headers["If-Match"], etag):
            return None
        response = JsonResponse(
            {
                "detail": "This changed since you read it: read it again, then retry the change.",
                "code": "precondition_failed",
            },
            status=412,
        )
        response["ETag"] = etag
        return response


def _as_get(request: HttpRequest) -> HttpRequest:
    """The same request as a bodiless GET of the same URL (same caller, same credentials)."""
    probe = copy.copy(request)
    probe.__dict__.pop("headers", None)  # a cached_property, rebuilt from the new META
    probe.META = {
        key: value
        for key, value in request.META.items()
        if key not in ("CONTENT_TYPE", "CONTENT_LENGTH", "HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH")
    }
    probe.META["REQUEST_METHOD"] = "GET"
    probe.method = "GET"
    # The throttles do not count it: it is part of the caller's one request.
    probe.conditional_probe = True
    return probe
