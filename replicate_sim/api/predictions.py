"""The prediction endpoints: create (on a version or a model), get, cancel and list.

A create request may hold the answer for `Prefer: wait[=n]` seconds, and may set a deadline with
`Cancel-After`; inputs are validated against the version's schema before anything runs.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .. import catalog, schemas
from ..errors import ApiError, not_found, validation_error
from ..ids import job_id
from ..schemas.cog import validate_input
from ..server import Request, Response, Router
from ..store import JobRecord, ModelRecord, VersionRecord
from .base import JobEndpoints
from .parsing import MODEL_REF, object_body, sim_overrides, unknown_keys, webhook_problems

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_PREFER = re.compile(r"^wait(?:=(?P<seconds>\d{1,2}))?$")
_DURATION = re.compile(
    r"^(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m)?(?:(?P<s>\d+(?:\.\d+)?)s)?$"
)
UNKNOWN_VERSION = (
    "The specified version does not exist (or perhaps you don't have permission to use it?)"
)
PREDICTION_KEYS = {
    "version",
    "input",
    "webhook",
    "webhook_completed",
    "webhook_events_filter",
    "stream",
}


class PredictionEndpoints(JobEndpoints):
    kind = "prediction"
    time_filters = True

    def register(self, router: Router) -> None:
        router.add(
            "POST", "/v1/models/{owner}/{name}/predictions", self.prediction_create_for_model
        )
        router.add("POST", "/v1/deployments/{owner}/{name}/predictions", self.deployment_prediction)
        router.add("POST", "/v1/predictions", self.prediction_create)
        router.add("GET", "/v1/predictions", self.job_list)
        router.add("GET", "/v1/predictions/{job_id}", self.job_get)
        router.add("POST", "/v1/predictions/{job_id}/cancel", self.job_cancel)

    def prediction_create(self, request: Request) -> Response:
        prefer = _prefer_seconds(request)
        body = object_body(request)
        ref = body.get("version")
        if ref is None:
            raise validation_error([("version", "(root)", "version is required")])
        if not isinstance(ref, str):
            raise validation_error([("version", "version", "Invalid type. Expected: string")])
        model, version = self._resolve_version(ref)
        return self._create_prediction(request, body, model, version, prefer)

    def prediction_create_for_model(self, request: Request) -> Response:
        prefer = _prefer_seconds(request)
        body = object_body(request)
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
            match = MODEL_REF.match(ref)
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
        params, problems = validate_input(schema, body.get("input"))
        problems += unknown_keys(body, allowed_keys)
        problems += webhook_problems(body)
        if problems:
            raise validation_error(problems)
        overrides = sim_overrides(request)
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
        self._submit(job, model)
        self._answer_late()
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
