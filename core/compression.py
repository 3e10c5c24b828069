"""Gzip for text responses (pages, JSON, feeds), never for pictures, zips or other files.

Django's GZipMiddleware compresses any response, streamed files included: a WebP or a zip gains
nothing, costs CPU and loses its Content-Length. This one lets only text through to it.

BREACH (compression revealing a secret that sits next to attacker-chosen text): the CSRF token
is masked afresh for every response, the session cookie never appears in a body, and Django's
GZipMiddleware pads every compressed response with up to 100 random bytes (Heal The Breach),
so repeated guesses cannot be told apart by length. The secrets a page can show (share links,
presigned URLs) belong to the signed-in owner and are compressed only together with that
padding.
"""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE_TYPES = (
    "text/",
    "application/json",
    "application/problem+json",
    "application/javascript",
    "application/xml",
    "application/vnd.oai.openapi",
    "image/svg+xml",
)


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "").lower()
        # An event stream must reach the browser event by event; gzip would hold events back.
        if not content_type.startswith(COMPRESSIBLE_TYPES) or content_type.startswith(
            "text/event-stream"
        ):
            return response
        return super().process_response(request, response)
