"""The calls the project makes: destination models, files, trainings, predictions, outputs."""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import logging
import mimetypes
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.utils.dateparse import parse_datetime
from replicate.exceptions import ReplicateError

from .client import api_token, call, download_client, get_client
from .errors import ReplicateNotFound, ReplicateServiceError
from .values import RemoteJob, RemoteModel, remote_model, split_model_name

logger = logging.getLogger(__name__)

_MAX_DOWNLOAD_BYTES = 60 * 1024 * 1024
# Lists are read newest first, 100 to a page; a look-up reads at most this many pages.
_LIST_MAX_PAGES = 10


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
        model = call(
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
        model = call(
            "models.get",
            lambda: client.models.get(f"{settings.REPLICATE_OWNER}/{name}"),
            idempotent=True,
        )
    return remote_model(model)


def destination_model_delete(*, full_name: str) -> None:
    """Delete a model and its versions (Replicate refuses to delete a model that has any).

    Safe to repeat: a model or version already gone counts as deleted.
    """
    owner, name = split_model_name(full_name)
    client = get_client()
    try:
        model = call("models.get", lambda: client.models.get(owner, name), idempotent=True)
    except ReplicateNotFound:
        return
    # A page lists at most 100 versions; a model rarely has more, but keep going until none is
    # left, within a bound so a backend that never forgets a version cannot loop us forever.
    for _ in range(20):
        page = call("versions.list", lambda: model.versions.list(), idempotent=True)
        if not page.results:
            break
        for version in page.results:
            with contextlib.suppress(ReplicateNotFound):
                call(
                    "versions.delete",
                    lambda version_id=version.id: model.versions.delete(version_id),
                    idempotent=True,
                )
    try:
        call("models.delete", lambda: client.models.delete(owner, name), idempotent=True)
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

    A stream is sent as it is read, not loaded into memory first. Bounded by
    REPLICATE_UPLOAD_TIMEOUT_SECONDS (a training's zip can be large), not the API timeout.
    """
    client = get_client(timeout=settings.REPLICATE_UPLOAD_TIMEOUT_SECONDS)

    def upload():
        stream = io.BytesIO(data) if isinstance(data, bytes) else data
        stream.seek(0)
        return client.files.create(
            _NamedStream(stream, filename), filename=filename, content_type=content_type
        )

    uploaded = call("files.create", upload, idempotent=False)
    return uploaded.urls["get"]


def training_start(*, destination: str, training_input: dict, webhook_url: str | None) -> RemoteJob:
    """Start the LoRA trainer, pushing the result as a new version of `destination`."""
    client = get_client()
    trainer_owner, trainer_name = split_model_name(settings.REPLICATE_TRAINER_MODEL)
    params: dict[str, Any] = {"destination": destination}
    if webhook_url:
        params["webhook"] = webhook_url
        params["webhook_events_filter"] = ["start", "logs", "completed"]
    training = call(
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
    training = call("trainings.get", lambda: client.trainings.get(training_id), idempotent=True)
    return RemoteJob._from_resource(training)


def training_cancel(*, training_id: str) -> RemoteJob:
    client = get_client()
    training = call(
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

    Inputs left as None are not sent, so Replicate applies its own defaults. File inputs
    (streams) are uploaded first, so that the create itself sends only the input's values.
    """
    if (version_id is None) == (model_name is None):
        raise ValueError("give exactly one of version_id and model_name")
    clean_input = {key: value for key, value in prediction_input.items() if value is not None}
    for key, value in clean_input.items():
        if isinstance(value, io.IOBase):
            filename = str(getattr(value, "name", "") or key)
            clean_input[key] = file_upload(
                data=value,
                filename=filename,
                content_type=mimetypes.guess_type(filename)[0] or "application/octet-stream",
            )
    client = get_client()
    params: dict[str, Any] = {}
    if webhook_url:
        params["webhook"] = webhook_url
        params["webhook_events_filter"] = ["start", "completed"]
    if version_id:
        target: dict[str, Any] = {"version": version_id}
    else:
        target = {"model": model_name}
    prediction = call(
        "predictions.create",
        lambda: client.predictions.create(input=clean_input, **target, **params),
        idempotent=False,
    )
    return RemoteJob._from_resource(prediction)


def prediction_get(*, prediction_id: str) -> RemoteJob:
    client = get_client()
    prediction = call(
        "predictions.get", lambda: client.predictions.get(prediction_id), idempotent=True
    )
    return RemoteJob._from_resource(prediction)


def prediction_cancel(*, prediction_id: str) -> RemoteJob:
    client = get_client()
    prediction = call(
        "predictions.cancel", lambda: client.predictions.cancel(prediction_id), idempotent=True
    )
    return RemoteJob._from_resource(prediction)


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _created_at(job: RemoteJob) -> datetime | None:
    return parse_datetime(job.created_at) if job.created_at else None


def predictions_created_between(
    *, since: datetime, until: datetime | None = None, max_pages: int = _LIST_MAX_PAGES
) -> list[RemoteJob]:
    """Our predictions created after `since` (and before `until`), newest first.

    Replicate filters the list itself (`created_after`, `created_before`); pages are followed
    up to `max_pages` (100 predictions each), then the rest is left unread and logged.
    """
    client = get_client()
    query = {"created_after": _rfc3339(since)}
    if until is not None:
        query["created_before"] = _rfc3339(until)
    cursor = f"/v1/predictions?{urlencode(query)}"
    found: list[RemoteJob] = []
    for _ in range(max_pages):
        page = call(
            "predictions.list",
            lambda cursor=cursor: client.predictions.list(cursor=cursor),
            idempotent=True,
        )
        found.extend(RemoteJob._from_resource(prediction) for prediction in page.results)
        if not page.next:
            return found
        cursor = page.next
    logger.warning("predictions since %s: more than %d pages, the rest unread", since, max_pages)
    return found


def trainings_created_since(
    *, since: datetime, max_pages: int = _LIST_MAX_PAGES
) -> list[RemoteJob]:
    """Our trainings created after `since`, newest first.

    The trainings list takes no filter: pages are read newest first until one reaches back
    before `since`, at most `max_pages` of them.
    """
    client = get_client()
    cursor: Any = ...
    found: list[RemoteJob] = []
    for _ in range(max_pages):
        page = call(
            "trainings.list",
            lambda cursor=cursor: client.trainings.list(cursor=cursor),
            idempotent=True,
        )
        jobs = [RemoteJob._from_resource(training) for training in page.results]
        recent = [job for job in jobs if (_created_at(job) or since) >= since]
        found.extend(recent)
        if not page.next or len(recent) < len(jobs):
            return found
        cursor = page.next
    logger.warning("trainings since %s: more than %d pages, the rest unread", since, max_pages)
    return found


def jobs_created_between(
    *, kind: str, since: datetime, until: datetime | None = None
) -> list[RemoteJob]:
    """Trainings (`kind="training"`) or predictions created after `since` (before `until`)."""
    if kind == "training":
        jobs = trainings_created_since(since=since)
        if until is None:
            return jobs
        return [job for job in jobs if (_created_at(job) or until) <= until]
    return predictions_created_between(since=since, until=until)


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
            headers["Authorization"] = f"Bearer {api_token()}"
        with download_client().stream("GET", url, headers=headers) as response:
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

    return call("output.download", fetch, idempotent=True)


def job_get(*, kind: str, job_id: str) -> RemoteJob:
    """A training (`kind="training"`) or a prediction (`kind="prediction"`) as it is now."""
    if kind == "training":
        return training_get(training_id=job_id)
    return prediction_get(prediction_id=job_id)


def job_cancel(*, kind: str, job_id: str) -> RemoteJob:
    """Cancel a training or a prediction; one that has already ended is returned as it is."""
    if kind == "training":
        return training_cancel(training_id=job_id)
    return prediction_cancel(prediction_id=job_id)


_FILE_ID = re.compile(r"[A-Za-z0-9_-]{1,200}")


def file_id_from_url(url: str) -> str:
    """The id of a Files API file from its `urls.get` (`…/v1/files/<id>`), as `file_upload`
    returns it; ValueError for any other URL."""
    path = urlsplit(url).path.rstrip("/")
    prefix, _, file_id = path.rpartition("/")
    if not prefix.endswith("/v1/files") or not _FILE_ID.fullmatch(file_id):
        raise ValueError(f"not a Files API URL: {url!r}")
    return file_id


def file_delete(*, file_id: str) -> bool:
    """Delete a file of the Files API (`DELETE /v1/files/{id}`): True if it was deleted now,
    False if it was already gone (a 404, e.g. deleted before or expired). Safe to repeat."""
    if not _FILE_ID.fullmatch(file_id):
        raise ValueError(f"not a file id: {file_id!r}")
    client = get_client()
    try:
        return call("files.delete", lambda: client.files.delete(file_id), idempotent=True)
    except ReplicateNotFound:
        return False
