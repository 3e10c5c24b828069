import logging
import re
import time
import uuid

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.urls import NoReverseMatch, Resolver404, get_script_prefix, resolve, reverse

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
                    "%s %s %s %.0fms%s",
                    request.method,
                    request.path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                    # What the view adds to this line instead of a line of its own (webhooks).
                    f" {request.log_note}" if hasattr(request, "log_note") else "",
                )
            return response
        finally:
            request_id_var.reset(token)


def request_size_allowed(setting: str):
    """Let a view (a function or an APIView class) receive bodies up to `settings.<setting>`
    bytes instead of REQUEST_MAX_BYTES: `@request_size_allowed("DATASET_UPLOAD_MAX_REQUEST_BYTES")`.
    """

    def mark(view):
        view.request_max_bytes_setting = setting
        return view

    return mark


class RequestSizeMiddleware:
    """Answers 413 to a body larger than the view takes, from its Content-Length, unread.

    Django caps form fields and JSON (DATA_UPLOAD_MAX_MEMORY_SIZE) but not files: a multipart
    body of any size is parsed to temporary files before a view sees it. This cap comes first,
    before the CSRF check or anything else reads the body. A body without a Content-Length is
    read as empty by Django, so there is no way around it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.webhook_path, self.webhook_lane = _webhook_lane()

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0  # Django reads a body of unknown length as empty
        if length > settings.REQUEST_MAX_BYTES:
            limit = self._limit_for(request)
            if length > limit:
                logger.warning(
                    "request body of %s bytes refused (limit %s) on %s", length, limit, request.path
                )
                return _too_large_response(request, limit)
        if request.path_info == self.webhook_path:
            return self.webhook_lane(request)
        return self.get_response(request)

    @staticmethod
    def _limit_for(request) -> int:
        try:
            view = resolve(request.path_info).func
        except Resolver404:
            return settings.REQUEST_MAX_BYTES
        setting = getattr(view, "request_max_bytes_setting", None) or getattr(
            getattr(view, "view_class", None), "request_max_bytes_setting", None
        )
        if not setting:
            return settings.REQUEST_MAX_BYTES
        return max(settings.REQUEST_MAX_BYTES, getattr(settings, setting))


def _webhook_lane():
    """(path, handler) of the Replicate webhook's own lane, which skips the middleware below.

    The receiver is signed, anonymous and CSRF-exempt, answers a few bytes and is called for
    every event of every job: sessions, authentication, messages, compression, the API's ETags,
    rate-limit headers and idempotency keys do nothing for it, yet running them was a tenth of
    its CPU. It keeps this request's id and log line, the size cap above, and SecurityMiddleware
    (the HTTPS redirect and headers), around the view itself.
    """
    from django.middleware.security import SecurityMiddleware

    from .webhooks import replicate_webhook

    try:
        path = reverse("replicate-webhook")
    except NoReverseMatch:  # a URLconf without it (some tests)
        return None, None
    return path[len(get_script_prefix()) - 1 :], SecurityMiddleware(replicate_webhook)


def _too_large_response(request, limit: int) -> HttpResponse:
    megabytes = limit // (1024 * 1024)
    message = f"The request is larger than {megabytes} MB. Send fewer or smaller files."
    wants_json = (
        request.path.startswith("/api/")
        or "json" in request.headers.get("Accept", "")
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )
    if wants_json:
        response = JsonResponse({"detail": message, "code": "request_too_large"}, status=413)
    else:
        response = HttpResponse(message, status=413, content_type="text/plain; charset=utf-8")
    return response
