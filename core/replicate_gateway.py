"""The one module that talks to Replicate (or to the bundled simulator, which speaks the same API).

Nothing else in the project imports `replicate`. Callers get plain `RemoteJob` / `RemoteModel`
values and the project's own exceptions (`ReplicateServiceError` and its kinds), each with a
message fit to show a user. Every call has a timeout; calls that are safe to repeat are retried
with back-off and jitter on 429 (honouring `Retry-After`), 5xx and network errors, and creates
are retried only when the request certainly did not take effect (429, refused connection).

Settings choose the backend: the real API when `REPLICATE_API_TOKEN` is set, the simulator
(`REPLICATE_BASE_URL`, `REPLICATE_SIMULATOR_TOKEN`) otherwise.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import replicate
from django.conf import settings
from django.core.cache import cache
from replicate.exceptions import ReplicateError
from replicate.webhook import WebhookSigningSecret, WebhookValidationError

from .exceptions import ExternalServiceError

logger = logging.getLogger(__name__)

T = TypeVar("T")

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})
WEBHOOK_TOLERANCE_SECONDS = 5 * 60
_WEBHOOK_SECRET_CACHE_KEY = "replicate:webhook-secret"  # noqa: S105 (a cache key)
_MAX_ATTEMPTS = 4
_MAX_RETRY_WAIT_SECONDS = 30.0
_MAX_DOWNLOAD_BYTES = 60 * 1024 * 1024


# --- Errors ---------------------------------------------------------------------------------


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


class ReplicateConfigurationError(ReplicateServiceError):
    """Our token or account is wrong: an operator must act, the user cannot."""

    status_code = 502
    code = "replicate_misconfigured"


class WebhookRejected(Exception):
    """A webhook whose signature, age or shape is not acceptable."""


def _translate(error: Exception) -> ReplicateServiceError:
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


# --- Client and retries ---------------------------------------------------------------------


class _DefaultTimeoutTransport(httpx.HTTPTransport):
    """Gives a timeout to the requests the client sends with none (file uploads)."""

    def __init__(self, *, timeout: float, **kwargs):
        super().__init__(**kwargs)
        self._timeout = timeout

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        if not timeouts or any(value is None for value in timeouts.values()):
            request.extensions["timeout"] = {
                phase: (value if value is not None else self._timeout)
                for phase, value in {
                    "connect": timeouts.get("connect"),
                    "read": timeouts.get("read"),
                    "write": timeouts.get("write"),
                    "pool": timeouts.get("pool"),
                }.items()
            }
        return super().handle_request(request)


def _api_token() -> str:
    if settings.REPLICATE_USES_SIMULATOR:
        return settings.REPLICATE_SIMULATOR_TOKEN
    return settings.REPLICATE_API_TOKEN


def get_client(*, timeout: float | None = None) -> replicate.Client:
    seconds = timeout or settings.REPLICATE_TIMEOUT_SECONDS
    return replicate.Client(
        api_token=_api_token(),
        base_url=settings.REPLICATE_BASE_URL,
        timeout=httpx.Timeout(seconds, connect=min(seconds, 5.0)),
        transport=_DefaultTimeoutTransport(timeout=max(seconds, 120.0)),
    )


def _retry_after_seconds(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    value = response.headers.get("Retry-After") if response is not None else None
    if value and value.strip().isdigit():
        return float(value)
    return None


def _is_retryable(error: Exception, *, idempotent: bool) -> bool:
    if isinstance(error, ReplicateError):
        if error.status == 429:
            return True  # the request was refused before it did anything
        return idempotent and error.status is not None and error.status >= 500
    if isinstance(error, httpx.ConnectError):
        return True  # nothing reached the server
    return idempotent and isinstance(error, httpx.TransportError)


def _call(operation: str, func: Callable[[], T], *, idempotent: bool) -> T:
    """Run one API call with our retry policy; raise the project's own error at the end."""
    for attempt in range(1, _MAX_ATTEMPTS + 1):
        try:
            return func()
        except (ReplicateError, httpx.HTTPError) as error:
            if attempt == _MAX_ATTEMPTS or not _is_retryable(error, idempotent=idempotent):
                translated = _translate(error)
                logger.warning(
                    "replicate %s failed after %d attempt(s): %s", operation, attempt, error
                )
                raise translated from error
            wait = _retry_after_seconds(error)
            if wait is None:
                wait = settings.REPLICATE_RETRY_BASE_SECONDS * 2 ** (attempt - 1)
                wait += random.uniform(0, wait / 2)
            wait = min(wait, _MAX_RETRY_WAIT_SECONDS)
            logger.info(
                "replicate %s: %s, retrying in %.1fs (attempt %d)",
                operation,
                type(error).__name__,
                wait,
                attempt,
            )
            time.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


# --- Values handed to the rest of the project -----------------------------------------------


@dataclass(frozen=True)
class RemoteJob:
    """A prediction or training as Replicate last described it."""

    id: str
    status: str
    model: str = ""
    version: str = ""
    input: dict = field(default_factory=dict)
    output: Any = None
    error: str | None = None
    logs: str = ""
    metrics: dict = field(default_factory=dict)
    created_at: str | None = None
    started_at: str | None = None
    completed_at: str | None = None

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES

    @property
    def output_version_id(self) -> str | None:
        """For a finished training: the id part of `owner/name:id` in the output."""
        if isinstance(self.output, dict) and isinstance(self.output.get("version"), str):
            return self.output["version"].rpartition(":")[2] or None
        return None

    @property
    def output_urls(self) -> list[str]:
        """For a finished prediction: the output file URLs, whatever shape the output has."""
        if isinstance(self.output, str):
            return [self.output]
        if isinstance(self.output, list):
            return [str(item) for item in self.output if item]
        return []

    @classmethod
    def from_payload(cls, payload: dict) -> RemoteJob:
        """Build from a webhook body or an API object (a dict)."""
        if not isinstance(payload, dict) or not payload.get("id") or not payload.get("status"):
            raise WebhookRejected("the body is not a prediction or training object")
        version = payload.get("version")
        return cls(
            id=str(payload["id"]),
            status=str(payload["status"]),
            model=str(payload.get("model") or ""),
            version=version if isinstance(version, str) else str((version or {}).get("id", "")),
            input=payload.get("input") or {},
            output=payload.get("output"),
            error=payload.get("error"),
            logs=payload.get("logs") or "",
            metrics=payload.get("metrics") or {},
            created_at=payload.get("created_at"),
            started_at=payload.get("started_at"),
            completed_at=payload.get("completed_at"),
        )

    @classmethod
    def _from_resource(cls, resource) -> RemoteJob:
        version = resource.version
        return cls(
            id=resource.id,
            status=resource.status,
            model=resource.model or "",
            version=version if isinstance(version, str) else getattr(version, "id", ""),
            input=resource.input or {},
            output=resource.output,
            error=resource.error,
            logs=resource.logs or "",
            metrics=getattr(resource, "metrics", None) or {},
            created_at=resource.created_at,
            started_at=resource.started_at,
            completed_at=resource.completed_at,
        )


@dataclass(frozen=True)
class RemoteModel:
    owner: str
    name: str
    visibility: str
    latest_version_id: str | None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def _remote_model(model) -> RemoteModel:
    latest = model.latest_version
    return RemoteModel(
        owner=model.owner,
        name=model.name,
        visibility=model.visibility,
        latest_version_id=latest.id if latest else None,
    )


def _split_model_name(full_name: str) -> tuple[str, str]:
    owner, _, name = full_name.partition("/")
    if not owner or not name:
        raise ValueError(f"expected owner/name, got {full_name!r}")
    return owner, name


# --- Operations -----------------------------------------------------------------------------


def backend_check(*, timeout: float = 3.0) -> None:
    """Raise if the Replicate backend cannot be reached with our token (used by /readyz)."""
    get_client(timeout=timeout).accounts.current()


def destination_model_create(*, name: str, description: str = "") -> RemoteModel:
    """Create the private model that a user's trainings push versions to.

    Creating is not idempotent on Replicate (a second call is refused as a duplicate), so when
    the model already exists from an earlier attempt it is fetched and returned instead.
    """
    client = get_client()
    try:
        model = _call(
            "models.create",
            lambda: client.models.create(
                owner=settings.REPLICATE_OWNER,
                name=name,
                visibility="private",
                hardware=settings.REPLICATE_HARDWARE,
                description=description or None,
            ),
            idempotent=False,
        )
    except ReplicateServiceError as error:
        if error.status not in (409, 422) or "exist" not in (error.detail or "").lower():
            raise
        model = _call(
            "models.get",
            lambda: client.models.get(f"{settings.REPLICATE_OWNER}/{name}"),
            idempotent=True,
        )
    return _remote_model(model)


def destination_model_get(*, full_name: str) -> RemoteModel:
    client = get_client()
    return _remote_model(_call("models.get", lambda: client.models.get(full_name), idempotent=True))


def destination_model_delete(*, full_name: str) -> None:
    """Delete a model and its versions (Replicate refuses to delete a model that has any).

    Safe to repeat: a model or version already gone counts as deleted.
    """
    owner, name = _split_model_name(full_name)
    client = get_client()
    try:
        model = _call("models.get", lambda: client.models.get(owner, name), idempotent=True)
    except ReplicateNotFound:
        return
    # A page lists at most 100 versions; a model rarely has more, but keep going until none is
    # left, within a bound so a backend that never forgets a version cannot loop us forever.
    for _ in range(20):
        page = _call("versions.list", lambda: model.versions.list(), idempotent=True)
        if not page.results:
            break
        for version in page.results:
            with contextlib.suppress(ReplicateNotFound):
                _call(
                    "versions.delete",
                    lambda version_id=version.id: model.versions.delete(version_id),
                    idempotent=True,
                )
    try:
        _call("models.delete", lambda: client.models.delete(owner, name), idempotent=True)
    except ReplicateNotFound:
        return


class _NamedStream(io.RawIOBase):
    """A read-only view of a stream under a file name (the client names the upload by it)."""

    def __init__(self, stream, name: str):
        super().__init__()
        self._stream = stream
        self.name = name

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        return self._stream.seek(offset, whence)

    def tell(self) -> int:
        return self._stream.tell()


def file_upload(*, data: bytes | io.IOBase, filename: str, content_type: str) -> str:
    """Upload a file (e.g. a training zip) to the Files API; return the URL to pass as input.

    A stream is sent as it is read, not loaded into memory first.
    """
    client = get_client()

    def upload():
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        stream.seek(0)
        return client.files.create(
            _NamedStream(stream, filename), filename=filename, content_type=content_type
        )

    uploaded = _call("files.create", upload, idempotent=False)
    return uploaded.urls["get"]


def training_start(*, destination: str, training_input: dict, webhook_url: str | None) -> RemoteJob:
    """Start the LoRA trainer, pushing the result as a new version of `destination`."""
    client = get_client()
    trainer_owner, trainer_name = _split_model_name(settings.REPLICATE_TRAINER_MODEL)
    params: dict[str, Any] = {"destination": destination}
    if webhook_url:
        params["webhook"] = webhook_url
        params["webhook_events_filter"] = ["start", "logs", "completed"]
    training = _call(
        "trainings.create",
        lambda: client.trainings.create(
            model=(trainer_owner, trainer_name),
            version=settings.REPLICATE_TRAINER_VERSION,
            input=training_input,
            **params,
        ),
        idempotent=False,
    )
    return RemoteJob._from_resource(training)


def training_get(*, training_id: str) -> RemoteJob:
    client = get_client()
    training = _call("trainings.get", lambda: client.trainings.get(training_id), idempotent=True)
    return RemoteJob._from_resource(training)


def training_cancel(*, training_id: str) -> RemoteJob:
    client = get_client()
    training = _call(
        "trainings.cancel", lambda: client.trainings.cancel(training_id), idempotent=True
    )
    return RemoteJob._from_resource(training)


def prediction_start(
    *,
    prediction_input: dict,
    version_id: str | None = None,
    model_name: str | None = None,
    webhook_url: str | None = None,
) -> RemoteJob:
    """Start a prediction on a version id (a user's LoRA) or a model name (official models).

    Inputs left as None are not sent, so Replicate applies its own defaults.
    """
    if (version_id is None) == (model_name is None):
        raise ValueError("give exactly one of version_id and model_name")
    client = get_client()
    clean_input = {key: value for key, value in prediction_input.items() if value is not None}
    params: dict[str, Any] = {}
    if webhook_url:
        params["webhook"] = webhook_url
        params["webhook_events_filter"] = ["start", "completed"]
    if version_id:
        target: dict[str, Any] = {"version": version_id}
    else:
        target = {"model": model_name}
    prediction = _call(
        "predictions.create",
        lambda: client.predictions.create(input=clean_input, **target, **params),
        idempotent=False,
    )
    return RemoteJob._from_resource(prediction)


def prediction_get(*, prediction_id: str) -> RemoteJob:
    client = get_client()
    prediction = _call(
        "predictions.get", lambda: client.predictions.get(prediction_id), idempotent=True
    )
    return RemoteJob._from_resource(prediction)


def prediction_cancel(*, prediction_id: str) -> RemoteJob:
    client = get_client()
    prediction = _call(
        "predictions.cancel", lambda: client.predictions.cancel(prediction_id), idempotent=True
    )
    return RemoteJob._from_resource(prediction)


def output_download(*, url: str, max_bytes: int = _MAX_DOWNLOAD_BYTES) -> tuple[bytes, str]:
    """Fetch an output file (an https or http URL, or a data: URI); return bytes and media type.

    Replicate's output URLs expire, so outputs are copied into our storage at once.
    """
    if url.startswith("data:"):
        header, _, payload = url.partition(",")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            raise ReplicateServiceError("The image service sent an unreadable file.") from error
        return data, header[5:].split(";")[0] or "application/octet-stream"
    if urlsplit(url).scheme not in ("http", "https"):
        raise ReplicateServiceError("The image service sent an unexpected file address.")

    def fetch() -> tuple[bytes, str]:
        headers = {"User-Agent": "avatars-platform"}
        host = urlsplit(url).hostname or ""
        base_host = urlsplit(settings.REPLICATE_BASE_URL).hostname or ""
        if host == base_host or host.endswith("replicate.delivery"):
            headers["Authorization"] = f"Bearer {_api_token()}"
        timeout = httpx.Timeout(settings.REPLICATE_TIMEOUT_SECONDS, connect=5.0)
        with (
            httpx.Client(timeout=timeout, follow_redirects=True) as http,
            http.stream("GET", url, headers=headers) as response,
        ):
            if response.status_code >= 400:
                raise ReplicateError(
                    status=response.status_code,
                    detail=f"output file answered {response.status_code}",
                )
            chunks, size = [], 0
            for chunk in response.iter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise ReplicateServiceError("The image service sent a file that is too large.")
                chunks.append(chunk)
            media_type = response.headers.get("Content-Type", "application/octet-stream")
            return b"".join(chunks), media_type.split(";")[0].strip()

    return _call("output.download", fetch, idempotent=True)


# --- Webhooks -------------------------------------------------------------------------------


def webhook_secret_get(*, refresh: bool = False) -> str:
    """The `whsec_` secret Replicate signs webhooks with (setting, else fetched and cached)."""
    if settings.REPLICATE_WEBHOOK_SECRET:
        return settings.REPLICATE_WEBHOOK_SECRET
    if not refresh:
        cached = cache.get(_WEBHOOK_SECRET_CACHE_KEY)
        if cached:
            return cached
    client = get_client()
    secret = _call(
        "webhooks.default.secret", lambda: client.webhooks.default.secret(), idempotent=True
    )
    cache.set(_WEBHOOK_SECRET_CACHE_KEY, secret.key, timeout=60 * 60)
    return secret.key


def webhook_verify(*, headers: dict[str, str], body: bytes) -> RemoteJob:
    """Check a webhook's signature and age; return the object it carries.

    Raises WebhookRejected for a missing or wrong signature, a timestamp more than five minutes
    off, or a body that is not a prediction or training. Replays of a valid delivery are caught
    by the caller, which records each `webhook-id` under a unique constraint.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise WebhookRejected("the body is not UTF-8") from error
    normalized = {key.lower(): value for key, value in headers.items()}
    secret = WebhookSigningSecret(key=webhook_secret_get())
    try:
        replicate.webhooks.validate(
            headers=normalized, body=text, secret=secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except WebhookValidationError as error:
        raise WebhookRejected(str(error) or type(error).__name__) from error
    try:
        payload = json.loads(text)
    except ValueError as error:
        raise WebhookRejected("the body is not JSON") from error
    return RemoteJob.from_payload(payload)


def webhook_id(headers: dict[str, str]) -> str:
    for key, value in headers.items():
        if key.lower() == "webhook-id":
            return value
    raise WebhookRejected("missing webhook-id header")
