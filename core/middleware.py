import logging
import re
import time
import uuid

from .logging import request_id_var

logger = logging.getLogger("core.request")

# A proxy's id is reused when it looks like one; anything else is replaced, so logs stay clean.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestIdMiddleware:
    """Tags every log line of a request with an id, returns it as X-Request-ID, logs one line."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = request_id_var.set(request_id)
        started = time.monotonic()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if request.path not in ("/healthz", "/readyz") and not request.path.startswith(
                "/static/"
            ):
                logger.info(
                    "%s %s %s %.0fms",
                    request.method,
                    request.path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
            return response
        finally:
            request_id_var.reset(token)
