"""The model endpoints: models (create, list, search, get, delete) and their versions.

Models can only be created under the token's account; only private models, and versions of
private models, can be deleted; a model with versions cannot be.
"""

from __future__ import annotations

import re
import time
from typing import Any

from .. import catalog
from ..errors import ApiError, validation_error
from ..server import Request, Response, Router
from ..store import ModelRecord
from .base import Endpoints
from .parsing import Problem, object_body

_MODEL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
MODEL_LIMIT = 1000


class ModelEndpoints(Endpoints):
    def register(self, router: Router) -> None:
        router.add("POST", "/v1/models", self.model_create)
        router.add("GET", "/v1/models", self.model_list)
        router.add("QUERY", "/v1/models", self.model_search)
        router.add("GET", "/v1/models/{owner}/{name}", self.model_get)
        router.add("DELETE", "/v1/models/{owner}/{name}", self.model_delete)
        router.add("GET", "/v1/models/{owner}/{name}/versions", self.version_list)
        router.add("GET", "/v1/models/{owner}/{name}/versions/{version_id}", self.version_get)
        router.add("DELETE", "/v1/models/{owner}/{name}/versions/{version_id}", self.version_delete)

    def _own(self, model: ModelRecord, action: str) -> None:
        if model.owner != self.sim.settings.owner:
            raise ApiError(403, f"You do not have permission to {action} {model.key}")

    def model_create(self, request: Request) -> Response:
        body = object_body(request)
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
