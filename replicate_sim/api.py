"""The `/v1` endpoints that the `replicate` client (1.0.7) calls, with the real API's rules."""

from __future__ import annotations

import base64
import hashlib
import json
import mimetypes
import re
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from . import catalog, multipart, schemas
from .errors import ApiError, not_found, validation_error
from .ids import file_id, job_id, parse_timestamp
from .server import Request, Response, Router
from .settings import OUTCOMES
from .store import FileRecord, JobRecord, ModelRecord, Store, VersionRecord
from .webhooks import EVENTS

if TYPE_CHECKING:
    from .app import Simulator

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MODEL_REF = re.compile(r"^(?P<owner>[^/:\s]+)/(?P<name>[^/:\s]+)(?::(?P<version>\S+))?$")
_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_PREFER = re.compile(r"^wait(?:=(?P<seconds>\d{1,2}))?$")
_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)
UNKNOWN_VERSION = (
    "The specified version does not exist (or perhaps you don't have permission to use it?)"
)
DESTINATION_MISSING = "The specified training destination does not exist"
MODEL_LIMIT = 1000
MULTIPART_SLACK = 64 * 1024
PREDICTION_KEYS = {
    "version",
    "input",
    "webhook",
    "webhook_completed",
    "webhook_events_filter",
    "stream",
}
TRAINING_KEYS = {"destination", "input", "webhook", "webhook_completed", "webhook_events_filter"}

Problem = tuple[str, str, str]


class V1Api:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def store(self) -> Store:
        return self.sim.store

    def register(self, router: Router) -> None:
        add = router.add
        add("GET", "/v1/account", self.account)
        add("GET", "/v1/hardware", self.hardware)
        add("GET", "/v1/webhooks/default/secret", self.webhook_secret)
        add("POST", "/v1/files", self.file_create)
        add("GET", "/v1/files", self.file_list)
        add("GET", "/v1/files/{file_id}", self.file_get)
        add("DELETE", "/v1/files/{file_id}", self.file_delete)
        add("GET", "/v1/files/{file_id}/download", self.file_download)
        add("POST", "/v1/models", self.model_create)
        add("GET", "/v1/models", self.model_list)
        add("QUERY", "/v1/models", self.model_search)
        add("GET", "/v1/models/{owner}/{name}", self.model_get)
        add("DELETE", "/v1/models/{owner}/{name}", self.model_delete)
        add("GET", "/v1/models/{owner}/{name}/versions", self.version_list)
        add("GET", "/v1/models/{owner}/{name}/versions/{version_id}", self.version_get)
        add("DELETE", "/v1/models/{owner}/{name}/versions/{version_id}", self.version_delete)
        add(
            "POST",
            "/v1/models/{owner}/{name}/versions/{version_id}/trainings",
            self.training_create,
        )
        add("POST", "/v1/models/{owner}/{name}/predictions", self.prediction_create_for_model)
        add("POST", "/v1/deployments/{owner}/{name}/predictions", self.deployment_prediction)
        add("POST", "/v1/predictions", self.prediction_create)
        add("GET", "/v1/predictions", self.prediction_list)
        add("GET", "/v1/predictions/{job_id}", self.prediction_get)
        add("POST", "/v1/predictions/{job_id}/cancel", self.prediction_cancel)
        add("GET", "/v1/trainings", self.training_list)
        add("GET", "/v1/trainings/{job_id}", self.training_get)
        add("POST", "/v1/trainings/{job_id}/cancel", self.training_cancel)

    # --- account ---------------------------------------------------------------------------------

    def account(self, request: Request) -> Response:
        owner = self.sim.settings.owner
        return Response.json(
            {"type": "user", "username": owner, "name": owner.title(), "github_url": None}
        )

    def hardware(self, request: Request) -> Response:
        return Response.json(catalog.HARDWARE)

    def webhook_secret(self, request: Request) -> Response:
        return Response.json({"key": self.sim.settings.webhook_secret})

    # --- files -----------------------------------------------------------------------------------

    def file_create(self, request: Request) -> Response:
        limit = self.sim.config.max_file_size
        too_big = ApiError(
            413,
            "Files must be less than 100MB in size"
            if limit == 100 * 1024 * 1024
            else f"Files must be less than {limit} bytes in size",
        )
        if request.content_length > limit + MULTIPART_SLACK:
            raise too_big
        boundary = multipart.boundary_of(request.headers.get("Content-Type", ""))
        if boundary is None:
            raise ApiError(400, "Expected a multipart/form-data body with a 'content' part")
        parts = {
            part.name: part
            for part in multipart.parse(request.body(limit + MULTIPART_SLACK), boundary)
        }
        content = parts.get("content")
        if content is None:
            raise validation_error([("content", "content", "content is required")])
        if len(content.data) >= limit:
            raise too_big
        metadata: Any = {}
        if "metadata" in parts:
            try:
                metadata = json.loads(parts["metadata"].data or b"{}")
            except ValueError as error:
                raise validation_error(
                    [("metadata", "metadata", f"Invalid JSON: {error}")]
                ) from error
            if not isinstance(metadata, dict):
                raise validation_error([("metadata", "metadata", "Must be a JSON object")])
        name = (_text(parts.get("filename")) or content.filename or "file")[:255]
        content_type = (
            _text(parts.get("type"))
            or content.content_type
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        record = FileRecord(
            id=file_id(),
            name=name,
            content_type=content_type,
            size=len(content.data),
            md5=hashlib.md5(content.data, usedforsecurity=False).hexdigest(),
            sha256=hashlib.sha256(content.data).hexdigest(),
            metadata=metadata,
            created_at=time.time(),
            seq=self.store.next_seq(),
        )
        self.store.file_path(record.id).write_bytes(content.data)
        with self.store.lock:
            self.store.files[record.id] = record
            self.store.touch()
        return Response.json(self.sim.serializer.file(record), status=201)

    def _file(self, request: Request) -> FileRecord:
        with self.store.lock:
            record = self.store.files.get(request.params["file_id"])
        if record is None or time.time() > record.created_at + 24 * 3600:
            raise ApiError(404, "File not found")
        return record

    def file_list(self, request: Request) -> Response:
        with self.store.lock:
            records = sorted(self.store.files.values(), key=lambda r: r.seq, reverse=True)
        now = time.time()
        records = [r for r in records if now <= r.created_at + 24 * 3600]
        return self._page(request, records, self.sim.serializer.file)

    def file_get(self, request: Request) -> Response:
        return Response.json(self.sim.serializer.file(self._file(request)))

    def file_delete(self, request: Request) -> Response:
        record = self._file(request)
        with self.store.lock:
            self.store.files.pop(record.id, None)
            self.store.touch()
        self.store.file_path(record.id).unlink(missing_ok=True)
        return Response.empty(204)

    def file_download(self, request: Request) -> Response:
        record = self._file(request)
        data = self.store.file_path(record.id).read_bytes()
        return Response(
            200,
            data,
            record.content_type,
            {"Content-Disposition": f'attachment; filename="{record.name}"'},
        )

    # --- models and versions ---------------------------------------------------------------------

    def _model(self, request: Request) -> ModelRecord:
        key = f"{request.params['owner']}/{request.params['name']}"
        with self.store.lock:
            model = self.store.models.get(key)
        if model is None:
            raise not_found(f"Model {key} not found")
        return model

    def _own(self, model: ModelRecord, action: str) -> None:
        if model.owner != self.sim.settings.owner:
            raise ApiError(403, f"You do not have permission to {action} {model.key}")

    def model_create(self, request: Request) -> Response:
        body = _object_body(request)
        problems: list[Problem] = []
        for key in ("owner", "name", "visibility", "hardware"):
            if not isinstance(body.get(key), str) or not body.get(key):
                problems.append((key, "(root)", f"{key} is required"))
        name = body.get("name")
        if isinstance(name, str) and name and not _MODEL_NAME.match(name):
            problems.append(
                (
                    "name",
                    "name",
                    "Model names can only contain lowercase letters, "
                    "numbers, dashes, underscores, and periods, and must start with a "
                    "letter or number",
                )
            )
        if body.get("visibility") and body.get("visibility") not in {"public", "private"}:
            problems.append(
                (
                    "visibility",
                    "visibility",
                    'visibility must be one of the following: "public", "private"',
                )
            )
        if body.get("hardware") and body.get("hardware") not in catalog.HARDWARE_SKUS:
            skus = ", ".join(sorted(catalog.HARDWARE_SKUS))
            problems.append(
                (
                    "hardware",
                    "hardware",
                    f"Invalid hardware SKU. Valid SKUs (GET /v1/hardware): {skus}",
                )
            )
        for key in ("description", "github_url", "paper_url", "license_url", "cover_image_url"):
            if body.get(key) is not None and not isinstance(body.get(key), str):
                problems.append((key, key, "Invalid type. Expected: string"))
        if problems:
            raise validation_error(problems)
        owner = body["owner"]
        if owner != self.sim.settings.owner:
            raise ApiError(
                403,
                f"You do not have permission to create models for {owner!r}. "
                f"The account of this token is {self.sim.settings.owner!r}.",
            )
        key = f"{owner}/{name}"
        with self.store.lock:
            if key in self.store.models:
                raise ApiError(409, f"A model with the name {key} already exists")
            own_models = sum(1 for m in self.store.models.values() if m.owner == owner)
            if own_models >= MODEL_LIMIT:
                raise ApiError(422, f"You have reached the limit of {MODEL_LIMIT} models")
            model = ModelRecord(
                owner=owner,
                name=name,
                visibility=body["visibility"],
                hardware=body["hardware"],
                created_at=time.time(),
                seq=self.store.next_seq(),
                description=body.get("description"),
                github_url=body.get("github_url"),
                paper_url=body.get("paper_url"),
                license_url=body.get("license_url"),
                cover_image_url=body.get("cover_image_url"),
            )
            self.store.models[key] = model
            self.store.touch()
            data = self.sim.serializer.model(model)
        return Response.json(data, status=201)

    def model_list(self, request: Request) -> Response:
        with self.store.lock:
            models = self._visible_models()
        return self._page(request, models, self._serialize_model)

    def model_search(self, request: Request) -> Response:
        query = request.body().decode("utf-8", "replace").strip().lower()
        with self.store.lock:
            models = [
                m
                for m in self._visible_models()
                if query in m.key.lower() or query in (m.description or "").lower()
            ]
        return self._page(request, models, self._serialize_model)

    def _visible_models(self) -> list[ModelRecord]:
        owner = self.sim.settings.owner
        models = [
            m for m in self.store.models.values() if m.visibility == "public" or m.owner == owner
        ]
        return sorted(models, key=lambda m: m.seq, reverse=True)

    def _serialize_model(self, model: ModelRecord) -> dict[str, Any]:
        with self.store.lock:
            return self.sim.serializer.model(model)

    def model_get(self, request: Request) -> Response:
        model = self._model(request)
        return Response.json(self._serialize_model(model))

    def model_delete(self, request: Request) -> Response:
        model = self._model(request)
        self._own(model, "delete")
        with self.store.lock:
            if model.visibility != "private":
                raise ApiError(403, "Only private models can be deleted")
            if self.store.model_versions(model):
                raise ApiError(
                    409,
                    f"Cannot delete model {model.key} because it has versions. Delete all of its "
                    f"versions first (DELETE /v1/models/{model.key}/versions/<version id>), then "
                    "delete the model.",
                )
            self.store.models.pop(model.key, None)
            self.store.touch()
        return Response.empty(204)

    def version_list(self, request: Request) -> Response:
        model = self._model(request)
        with self.store.lock:
            versions = list(reversed(self.store.model_versions(model)))
            data = [self.sim.serializer.version(v) for v in versions]
        return Response.json({"previous": None, "next": None, "results": data})

    def _version(self, request: Request, model: ModelRecord) -> VersionRecord:
        version_id = request.params["version_id"]
        with self.store.lock:
            version = self.store.versions.get(version_id)
            if version is None or version_id not in model.version_ids:
                raise not_found(f"Version {version_id} of {model.key} not found")
            return version

    def version_get(self, request: Request) -> Response:
        model = self._model(request)
        version = self._version(request, model)
        return Response.json(self.sim.serializer.version(version))

    def version_delete(self, request: Request) -> Response:
        model = self._model(request)
        version = self._version(request, model)
        self._own(model, "delete versions of")
        if model.visibility != "private":
            raise ApiError(403, "You can only delete versions from private models")
        with self.store.lock:
            # Like the real API, deleting a version deletes its predictions and their files.
            for job in [j for j in self.store.jobs.values() if j.version_ref == version.id]:
                self.sim.engine.forget(job)
            model.version_ids = [v for v in model.version_ids if v != version.id]
            self.store.versions.pop(version.id, None)
            self.store.touch()
        return Response.empty(204)

    # --- predictions -----------------------------------------------------------------------------

    def prediction_create(self, request: Request) -> Response:
        prefer = _prefer_seconds(request)
        body = _object_body(request)
        ref = body.get("version")
        if ref is None:
            raise validation_error([("version", "(root)", "version is required")])
        if not isinstance(ref, str):
            raise validation_error([("version", "version", "Invalid type. Expected: string")])
        model, version = self._resolve_version(ref)
        return self._create_prediction(request, body, model, version, prefer)

    def prediction_create_for_model(self, request: Request) -> Response:
        prefer = _prefer_seconds(request)
        body = _object_body(request)
        model = self._model(request)
        with self.store.lock:
            version = self.store.latest_version(model)
        if version is None:
            raise ApiError(422, f"Model {model.key} has no versions to run yet")
        return self._create_prediction(
            request, body, model, version, prefer, allowed_keys=PREDICTION_KEYS - {"version"}
        )

    def deployment_prediction(self, request: Request) -> Response:
        raise not_found("Deployments are not simulated; run a model or a version instead")

    def _resolve_version(self, ref: str) -> tuple[ModelRecord, VersionRecord]:
        with self.store.lock:
            if _HEX64.match(ref):
                version = self.store.versions.get(ref)
                model = self.store.models.get(version.model) if version else None
                if version and model and ref in model.version_ids:
                    return model, version
                raise not_found(UNKNOWN_VERSION)
            match = _MODEL_REF.match(ref)
            if not match:
                raise not_found(UNKNOWN_VERSION)
            model = self.store.models.get(f"{match['owner']}/{match['name']}")
            if model is None:
                raise not_found(UNKNOWN_VERSION)
            if match["version"]:
                version = self.store.versions.get(match["version"])
                if version is None or version.id not in model.version_ids:
                    raise not_found(UNKNOWN_VERSION)
                return model, version
            if not model.official:
                raise not_found(UNKNOWN_VERSION)
            version = self.store.latest_version(model)
            if version is None:
                raise not_found(UNKNOWN_VERSION)
            return model, version

    def _create_prediction(
        self,
        request: Request,
        body: dict[str, Any],
        model: ModelRecord,
        version: VersionRecord,
        prefer: tuple[int, str] | None,
        allowed_keys: set[str] = PREDICTION_KEYS,
    ) -> Response:
        if version.kind == schemas.TRAINER_KIND:
            raise ApiError(
                422,
                f"{model.key} is a trainer: start it with POST /v1/models/{model.key}/versions/"
                f"{version.id}/trainings",
            )
        schema = schemas.schema_for(version.kind, trigger_word=version.trigger_word)
        params, problems = schemas.validate_input(schema, body.get("input"))
        problems += _unknown_keys(body, allowed_keys)
        problems += _webhook_problems(body)
        if problems:
            raise validation_error(problems)
        overrides = _sim_overrides(request)
        deadline = _cancel_after(request)
        now = time.time()
        job = JobRecord(
            kind="prediction",
            id=job_id(),
            model=model.key,
            version=catalog.OFFICIAL_VERSION_PLACEHOLDER if model.official else version.id,
            version_ref=version.id,
            input=dict(body.get("input") or {}),
            params=params,
            created_at=now,
            seq=self.store.next_seq(),
            webhook=body.get("webhook"),
            webhook_completed=body.get("webhook_completed"),
            webhook_events_filter=body.get("webhook_events_filter"),
            deadline=now + deadline if deadline is not None else None,
            plan=self.sim.engine.plan("prediction", overrides),
        )
        with self.store.lock:
            self.store.jobs[job.id] = job
            model.run_count += 1
            self.store.touch()
        self.sim.engine.submit(job)
        return self._created(job, prefer)

    def _created(self, job: JobRecord, prefer: tuple[int, str] | None) -> Response:
        headers = {"Location": self.sim.serializer.url(f"/v1/predictions/{job.id}")}
        status = 201
        override = None
        if prefer is not None:
            seconds, applied = prefer
            headers["Preference-Applied"] = applied
            # Answer a little before the client's read timeout (n + 0.5 s).
            done = self.sim.engine.wait(job.id, max(0.0, seconds - 0.25))
            if not done:
                # The real API answers an unfinished sync request in `starting`, which is what
                # makes `replicate.run()` fall back to polling instead of returning None.
                override = "starting"
                status = 202
        with self.store.lock:
            data = self.sim.serializer.job(job, status_override=override)
        return Response.json(data, status=status, headers=headers)

    def _job(self, request: Request, kind: str) -> JobRecord:
        with self.store.lock:
            job = self.store.jobs.get(request.params["job_id"])
        if job is None or job.kind != kind:
            raise not_found(f"{kind.title()} not found")
        return job

    def _job_response(self, job: JobRecord) -> Response:
        with self.store.lock:
            return Response.json(self.sim.serializer.job(job))

    def prediction_get(self, request: Request) -> Response:
        return self._job_response(self._job(request, "prediction"))

    def prediction_cancel(self, request: Request) -> Response:
        job = self._job(request, "prediction")
        self.sim.engine.cancel(job)
        return self._job_response(job)

    def prediction_list(self, request: Request) -> Response:
        return self._job_list(request, "prediction")

    # --- trainings -------------------------------------------------------------------------------

    def training_create(self, request: Request) -> Response:
        model = self._model(request)
        version = self._version(request, model)
        body = _object_body(request)
        if version.kind != schemas.TRAINER_KIND:
            raise ApiError(422, f"Version {version.id} of {model.key} does not support training")
        destination = body.get("destination")
        if destination is None:
            raise validation_error([("destination", "(root)", "destination is required")])
        if (
            not isinstance(destination, str)
            or not _MODEL_REF.match(destination)
            or (":" in destination)
        ):
            raise validation_error(
                [("destination", "destination", "destination must be in the format owner/name")]
            )
        with self.store.lock:
            target = self.store.models.get(destination)
        if target is None:
            raise ApiError(404, DESTINATION_MISSING, include_title=False)
        if target.owner != self.sim.settings.owner:
            raise ApiError(403, f"You do not have permission to push to {destination}")
        schema = schemas.schema_for(version.kind)
        params, problems = schemas.validate_input(schema, body.get("input"), "TrainingInput")
        problems += _unknown_keys(body, TRAINING_KEYS)
        problems += _webhook_problems(body)
        if problems:
            raise validation_error(problems)
        job = JobRecord(
            kind="training",
            id=job_id(),
            model=model.key,
            version=version.id,
            version_ref=version.id,
            input=dict(body.get("input") or {}),
            params=params,
            created_at=time.time(),
            seq=self.store.next_seq(),
            webhook=body.get("webhook"),
            webhook_completed=body.get("webhook_completed"),
            webhook_events_filter=body.get("webhook_events_filter"),
            destination=destination,
            plan=self.sim.engine.plan("training", _sim_overrides(request)),
        )
        with self.store.lock:
            self.store.jobs[job.id] = job
            model.run_count += 1
            self.store.touch()
        self.sim.engine.submit(job)
        with self.store.lock:
            data = self.sim.serializer.job(job)
        return Response.json(
            data,
            status=201,
            headers={"Location": self.sim.serializer.url(f"/v1/trainings/{job.id}")},
        )

    def training_get(self, request: Request) -> Response:
        return self._job_response(self._job(request, "training"))

    def training_cancel(self, request: Request) -> Response:
        job = self._job(request, "training")
        self.sim.engine.cancel(job)
        return self._job_response(job)

    def training_list(self, request: Request) -> Response:
        return self._job_list(request, "training")

    # --- lists -----------------------------------------------------------------------------------

    def _job_list(self, request: Request, kind: str) -> Response:
        after = _time_filter(request, "created_after")
        before = _time_filter(request, "created_before")
        with self.store.lock:
            jobs = [
                job
                for job in self.store.jobs_of_kind(kind)
                if (after is None or job.created_at > after)
                and (before is None or job.created_at < before)
            ]
        if request.query.get("source") == "web":
            jobs = []  # everything here was created through the API
        jobs.sort(key=lambda j: j.seq, reverse=True)
        return self._page(request, jobs, self._serialize_job)

    def _serialize_job(self, job: JobRecord) -> dict[str, Any]:
        with self.store.lock:
            return self.sim.serializer.job(job)

    def _page(
        self, request: Request, items: Sequence[Any], serialize: Callable[[Any], dict[str, Any]]
    ) -> Response:
        """Cursor pagination over items sorted newest first (by their `seq`).

        A cursor names a `seq` boundary, so records created meanwhile never shift a page.
        """
        size = self.sim.config.page_size
        cursor = _decode_cursor(request.query.get("cursor"))
        if cursor is None:
            page = list(items[:size])
        elif cursor[0] == "before":
            older = [item for item in items if item.seq < cursor[1]]
            page = older[:size]
        else:
            newer = [item for item in items if item.seq > cursor[1]]
            page = newer[-size:]
        next_url = previous_url = None
        if page:
            if any(item.seq < page[-1].seq for item in items):
                next_url = self._page_url(request, ("before", page[-1].seq))
            if any(item.seq > page[0].seq for item in items):
                previous_url = self._page_url(request, ("after", page[0].seq))
        return Response.json(
            {"previous": previous_url, "next": next_url, "results": [serialize(i) for i in page]}
        )

    def _page_url(self, request: Request, cursor: tuple[str, int]) -> str:
        query = {k: v for k, v in request.query.items() if k != "cursor"}
        token = base64.urlsafe_b64encode(f"{cursor[0]}:{cursor[1]}".encode()).decode().rstrip("=")
        query["cursor"] = token
        return self.sim.serializer.url(f"{request.path}?{urlencode(query)}")


# --- request parsing helpers ----------------------------------------------------------------------


def _text(part: multipart.Part | None) -> str:
    return part.data.decode("utf-8", "replace").strip() if part else ""


def _object_body(request: Request) -> dict[str, Any]:
    body = request.json()
    if not isinstance(body, dict):
        raise ApiError(400, "The request body must be a JSON object")
    return body


def _unknown_keys(body: dict[str, Any], allowed: set[str]) -> list[Problem]:
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


def _webhook_problems(body: dict[str, Any]) -> list[Problem]:
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


def _prefer_seconds(request: Request) -> tuple[int, str] | None:
    """(seconds to hold a create request, preference to echo) for `Prefer: wait[=n]`."""
    value = request.headers.get("Prefer")
    if value is None:
        return None
    match = _PREFER.match(value.strip())
    seconds = int(match["seconds"]) if match and match["seconds"] else 60
    if not match or not 1 <= seconds <= 60:
        raise ApiError(
            400,
            f"Invalid Prefer header {value!r}: expected 'wait' or 'wait=n' with n between 1 and 60",
        )
    return seconds, value.strip()


def _cancel_after(request: Request) -> float | None:
    value = request.headers.get("Cancel-After")
    if value is None:
        return None
    text = value.strip()
    match = _DURATION.match(text)
    if not text or not match or not any(match.groupdict().values()):
        raise ApiError(
            400, f"Invalid Cancel-After header {value!r}: use a duration like 30s, 5m or 1h30m"
        )
    seconds = float(match["h"] or 0) * 3600 + float(match["m"] or 0) * 60 + float(match["s"] or 0)
    if seconds < 5:
        raise ApiError(400, "Cancel-After must be at least 5s")
    return seconds


def _sim_overrides(request: Request) -> dict[str, Any]:
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


def _time_filter(request: Request, key: str) -> float | None:
    value = request.query.get(key)
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise ApiError(400, f"{key} must be an ISO 8601 date-time") from error


def _decode_cursor(token: str | None) -> tuple[str, int] | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        direction, _, seq = base64.urlsafe_b64decode(padded).decode().partition(":")
        if direction not in {"before", "after"}:
            raise ValueError(direction)
        return direction, int(seq)
    except ValueError as error:
        raise ApiError(400, "Invalid cursor") from error
