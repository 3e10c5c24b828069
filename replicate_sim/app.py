"""The simulator application: wires the store, the job engine, webhooks and the routes together.

Routes outside `/v1`:
- `/delivery/<object id>/<file>`: output images and training weights (no token needed, like
  replicate.delivery URLs; the client's Authorization header is accepted and ignored).
- `/p/<id>`: a small status page (the `urls.web` of predictions and trainings).
- `/_sim/...`: admin endpoints for tests and demos (token required, except `/_sim/health`).
"""

from __future__ import annotations

import hmac
import html
import re
import threading
from typing import Any
from urllib.parse import urlsplit

from . import catalog
from .api import register_v1_routes
from .errors import ApiError, not_found
from .faults import RequestFaults
from .inputs import InputResolver
from .jobs import JobEngine
from .rendering import FORMATS
from .serializers import Serializer
from .server import Request, Response, Router
from .settings import RuntimeConfig, StartupSettings
from .store import Store
from .webhooks import WebhookDispatcher

_SAFE_NAME = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]*$")
_UNAUTHENTICATED = ApiError(401, "You did not pass a valid authentication token")
_CONTENT_TYPES = {
    **{ext: mime for ext, (_pil, mime) in FORMATS.items()},
    "tar": "application/x-tar",
}


class Simulator:
    def __init__(self, settings: StartupSettings, config: RuntimeConfig) -> None:
        self.settings = settings
        self.config = config
        self.quiet = settings.quiet
        self.store = Store(settings.data_dir or None)
        catalog.seed(self.store)
        self.serializer = Serializer(self.store, settings.public_url)
        self.webhooks = WebhookDispatcher(settings.webhook_secret, config, log=True)
        public = urlsplit(settings.public_url)
        own_netlocs = {
            public.netloc,
            f"127.0.0.1:{settings.port}",
            f"localhost:{settings.port}",
            f"{settings.host}:{settings.port}",
        }
        self.inputs = InputResolver(self.store, own_netlocs, max_bytes=config.max_file_size)
        self.engine = JobEngine(
            store=self.store,
            config=config,
            serializer=self.serializer,
            webhooks=self.webhooks,
            inputs=self.inputs,
        )
        self.faults = RequestFaults(config)
        self.router = Router()
        register_v1_routes(self, self.router)
        self._register_admin(self.router)
        self.router.add("GET", "/delivery/{object_id}/{filename}", self.delivery)
        self.router.add("GET", "/p/{object_id}", self.status_page)
        self._started = threading.Event()

    # --- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        self.engine.recover()
        self.engine.start_sweeper()
        self.store.start_autosave()
        self._started.set()

    def close(self) -> None:
        self.engine.stop()
        self.webhooks.stop()
        self.store.close()

    # --- dispatch --------------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        path = request.path
        if path == "/v1" or path.startswith("/v1/"):
            self._authenticate(request)
            self.faults.check()
        elif path.startswith("/_sim/") and path.rstrip("/") != "/_sim/health":
            self._authenticate(request)
        handler = self.router.resolve(request)
        return handler(request)

    def _authenticate(self, request: Request) -> None:
        scheme, _, token = (request.headers.get("Authorization") or "").strip().partition(" ")
        if scheme.lower() not in {"bearer", "token"} or not hmac.compare_digest(
            token.strip().encode(), self.settings.token.encode()
        ):
            raise _UNAUTHENTICATED

    # --- files outside the API -------------------------------------------------------------------

    def delivery(self, request: Request) -> Response:
        object_id = request.params["object_id"]
        filename = request.params["filename"]
        if not _SAFE_NAME.match(object_id) or not _SAFE_NAME.match(filename):
            raise not_found()
        with self.store.lock:
            job = self.store.jobs.get(object_id)
            removed = job is not None and job.data_removed
        if removed:
            raise ApiError(
                410,
                "This file has expired: prediction data is removed after "
                f"{int(self.config.output_ttl)} seconds",
            )
        path = self.store.delivery_dir(object_id) / filename
        if not path.is_file():
            raise not_found("File not found")
        extension = filename.rsplit(".", 1)[-1].lower()
        return Response(
            200,
            path.read_bytes(),
            _CONTENT_TYPES.get(extension, "application/octet-stream"),
            {"Cache-Control": "private, max-age=3600"},
        )

    def status_page(self, request: Request) -> Response:
        with self.store.lock:
            job = self.store.jobs.get(request.params["object_id"])
            if job is None:
                raise not_found()
            data = self.serializer.job(job)
        output = data.get("output")
        images = output if isinstance(output, list) else []
        body = "".join(
            f'<img src="{html.escape(url)}" style="max-width:30%;margin:4px">' for url in images
        )
        page = (
            "<!doctype html><meta charset=utf-8><title>"
            f"{html.escape(job.kind)} {html.escape(job.id)}</title>"
            "<body style='font-family:sans-serif;max-width:60rem;margin:2rem auto'>"
            f"<h1>{html.escape(data['model'])}</h1>"
            f"<p>Status: <b>{html.escape(data['status'])}</b>"
            f"{' - ' + html.escape(data['error']) if data.get('error') else ''}</p>"
            f"<div>{body}</div><pre style='background:#eee;padding:1rem;white-space:pre-wrap'>"
            f"{html.escape(data.get('logs') or '')}</pre>"
        )
        return Response(200, page.encode(), "text/html; charset=utf-8")

    # --- admin -----------------------------------------------------------------------------------

    def _register_admin(self, router: Router) -> None:
        router.add("GET", "/_sim/health", self.admin_health)
        router.add("GET", "/_sim/config", self.admin_config_get)
        router.add("POST", "/_sim/config", self.admin_config_set)
        router.add("GET", "/_sim/webhooks", self.admin_webhooks)
        router.add("POST", "/_sim/expire", self.admin_expire)
        router.add("POST", "/_sim/reset", self.admin_reset)

    def admin_health(self, request: Request) -> Response:
        return Response.json({"status": "ok", "started": self._started.is_set()})

    def admin_config_get(self, request: Request) -> Response:
        return Response.json(self.config.snapshot())

    def admin_config_set(self, request: Request) -> Response:
        changes = _admin_body(request)
        try:
            snapshot = self.config.update(changes)
        except ValueError as error:
            raise ApiError(400, str(error)) from error
        self.inputs.max_bytes = self.config.max_file_size
        return Response.json(snapshot)

    def admin_webhooks(self, request: Request) -> Response:
        attempts = self.webhooks.attempts(request.query.get("object_id") or None)
        return Response.json({"attempts": attempts})

    def admin_expire(self, request: Request) -> Response:
        body = _admin_body(request)
        job_id = body.get("id")
        if job_id is not None:
            with self.store.lock:
                job = self.store.jobs.get(job_id)
            if job is None or job.kind != "prediction":
                raise not_found("Prediction not found")
        return Response.json({"expired": self.engine.expire_now(job_id)})

    def admin_reset(self, request: Request) -> Response:
        body = _admin_body(request)
        snapshot = self.config.reset()
        self.inputs.max_bytes = self.config.max_file_size
        if body.get("webhooks", True):
            self.webhooks.clear_attempts()
        if body.get("data", False):
            with self.store.lock:
                for job in list(self.store.jobs.values()):
                    self.engine.cancel(job)
                self.store.wipe_user_data(catalog.SEEDED_MODELS)
        return Response.json({"config": snapshot})


def _admin_body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body
