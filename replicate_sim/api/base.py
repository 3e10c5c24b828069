"""What the groups of `/v1` endpoints share.

`Endpoints` gives each group the simulator it serves, lookups of the model and version named in
the path, and pagination. `JobEndpoints` adds what predictions and trainings have in common:
submitting a new job, and reading, canceling and listing them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..errors import ApiError, not_found
from ..ids import parse_timestamp
from ..server import Request, Response, Router
from ..store import JobRecord, ModelRecord, Store, VersionRecord
from .pagination import page_response

if TYPE_CHECKING:
    # Only for annotations: the application imports the endpoints to register them.
    from ..app import Simulator


class Endpoints:
    """A group of `/v1` endpoints; `register` adds its routes."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    @property
    def store(self) -> Store:
        return self.sim.store

    def register(self, router: Router) -> None:
        raise NotImplementedError

    def _model(self, request: Request) -> ModelRecord:
        key = f"{request.params['owner']}/{request.params['name']}"
        with self.store.lock:
            model = self.store.models.get(key)
        if model is None:
            raise not_found(f"Model {key} not found")
        return model

    def _version(self, request: Request, model: ModelRecord) -> VersionRecord:
        version_id = request.params["version_id"]
        with self.store.lock:
            version = self.store.versions.get(version_id)
            if version is None or version_id not in model.version_ids:
                raise not_found(f"Version {version_id} of {model.key} not found")
            return version

    def _page(
        self, request: Request, items: Sequence[Any], serialize: Callable[[Any], dict[str, Any]]
    ) -> Response:
        return page_response(
            request,
            items,
            serialize,
            page_size=self.sim.config.page_size,
            absolute_url=self.sim.serializer.url,
        )


class JobEndpoints(Endpoints):
    """Predictions or trainings (`kind`): get, cancel and list them; subclasses create them."""

    kind: str

    def _submit(self, job: JobRecord, model: ModelRecord) -> None:
        with self.store.lock:
            self.store.jobs[job.id] = job
            model.run_count += 1
            self.store.touch()
        self.sim.engine.submit(job)

    def _answer_late(self) -> None:
        """The `slow_create_seconds` fault: the job exists and runs, its answer comes late."""
        delay = self.sim.config.slow_create_seconds
        if delay > 0:
            time.sleep(delay)

    def _job(self, request: Request) -> JobRecord:
        with self.store.lock:
            job = self.store.jobs.get(request.params["job_id"])
        if job is None or job.kind != self.kind:
            raise not_found(f"{self.kind.title()} not found")
        return job

    def _job_response(self, job: JobRecord) -> Response:
        with self.store.lock:
            return Response.json(self.sim.serializer.job(job))

    def _serialize_job(self, job: JobRecord) -> dict[str, Any]:
        with self.store.lock:
            return self.sim.serializer.job(job)

    def job_get(self, request: Request) -> Response:
        return self._job_response(self._job(request))

    def job_cancel(self, request: Request) -> Response:
        job = self._job(request)
        self.sim.engine.cancel(job)
        return self._job_response(job)

    # Whether the list takes `created_after` / `created_before` (the predictions list does;
    # the trainings list takes no filter and ignores them, like the real API).
    time_filters = False

    def job_list(self, request: Request) -> Response:
        """Newest first, 100 to a page with cursors; filtered by creation time if supported."""
        after = before = None
        if self.time_filters:
            after = _time_filter(request, "created_after")
            before = _time_filter(request, "created_before")
        with self.store.lock:
            jobs = [
                job
                for job in self.store.jobs_of_kind(self.kind)
                if (after is None or job.created_at >= after)
                and (before is None or job.created_at < before)
            ]
        if request.query.get("source") == "web":
            jobs = []  # everything here was created through the API
        jobs.sort(key=lambda j: j.seq, reverse=True)
        return self._page(request, jobs, self._serialize_job)


def _time_filter(request: Request, key: str) -> float | None:
    value = request.query.get(key)
    if not value:
        return None
    try:
        return parse_timestamp(value)
    except ValueError as error:
        raise ApiError(400, f"{key} must be an ISO 8601 date-time") from error
