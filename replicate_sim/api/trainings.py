"""The training endpoints: start a training on a trainer version, get, cancel and list them.

A training pushes a new version to its `destination`, a model of the token's account that must
exist before the training starts.
"""

from __future__ import annotations

import time

from .. import schemas
from ..errors import ApiError, validation_error
from ..ids import job_id
from ..schemas.cog import validate_input
from ..server import Request, Response, Router
from ..store import JobRecord
from .base import JobEndpoints
from .parsing import MODEL_REF, object_body, sim_overrides, unknown_keys, webhook_problems

DESTINATION_MISSING = "The specified training destination does not exist"
TRAINING_KEYS = {"destination", "input", "webhook", "webhook_completed", "webhook_events_filter"}


class TrainingEndpoints(JobEndpoints):
    kind = "training"

    def register(self, router: Router) -> None:
        router.add(
            "POST",
            "/v1/models/{owner}/{name}/versions/{version_id}/trainings",
            self.training_create,
        )
        router.add("GET", "/v1/trainings", self.job_list)
        router.add("GET", "/v1/trainings/{job_id}", self.job_get)
        router.add("POST", "/v1/trainings/{job_id}/cancel", self.job_cancel)

    def training_create(self, request: Request) -> Response:
        model = self._model(request)
        version = self._version(request, model)
        body = object_body(request)
        if version.kind != schemas.TRAINER_KIND:
            raise ApiError(422, f"Version {version.id} of {model.key} does not support training")
        destination = body.get("destination")
        if destination is None:
            raise validation_error([("destination", "(root)", "destination is required")])
        if (
            not isinstance(destination, str)
            or not MODEL_REF.match(destination)
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
        params, problems = validate_input(schema, body.get("input"), "TrainingInput")
        problems += unknown_keys(body, TRAINING_KEYS)
        problems += webhook_problems(body)
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
            plan=self.sim.engine.plan("training", sim_overrides(request)),
        )
        self._submit(job, model)
        self._answer_late()
        with self.store.lock:
            data = self.sim.serializer.job(job)
        return Response.json(
            data,
            status=201,
            headers={"Location": self.sim.serializer.url(f"/v1/trainings/{job.id}")},
        )
