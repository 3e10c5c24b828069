"""Records to the JSON objects the API returns (shapes checked against the 1.0.7 client)."""

from __future__ import annotations

from typing import Any

from . import schemas
from .ids import isoformat
from .schemas.cog import redact_secrets, secret_fields
from .store import FileRecord, JobRecord, ModelRecord, Store, VersionRecord


class Serializer:
    def __init__(self, store: Store, public_url: str) -> None:
        self.store = store
        self.public_url = public_url.rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.public_url}{path}"

    def file(self, record: FileRecord) -> dict[str, Any]:
        return {
            "id": record.id,
            "name": record.name,
            "content_type": record.content_type,
            "size": record.size,
            "etag": record.md5,
            "checksums": {"sha256": record.sha256, "md5": record.md5},
            "metadata": record.metadata,
            "created_at": isoformat(record.created_at),
            "expires_at": isoformat(record.created_at + 24 * 3600),
            "urls": {"get": self.url(f"/v1/files/{record.id}")},
        }

    def version(self, record: VersionRecord) -> dict[str, Any]:
        return {
            "id": record.id,
            "created_at": isoformat(record.created_at),
            "cog_version": record.cog_version,
            "openapi_schema": schemas.schema_for(record.kind, trigger_word=record.trigger_word),
        }

    def model(self, record: ModelRecord) -> dict[str, Any]:
        latest = self.store.latest_version(record)
        return {
            "url": self.url(f"/{record.owner}/{record.name}"),
            "owner": record.owner,
            "name": record.name,
            "description": record.description,
            "visibility": record.visibility,
            "github_url": record.github_url,
            "paper_url": record.paper_url,
            "license_url": record.license_url,
            "cover_image_url": record.cover_image_url,
            "run_count": record.run_count,
            "is_official": record.official,
            "default_example": None,
            "latest_version": self.version(latest) if latest else None,
        }

    def job(self, record: JobRecord, *, status_override: str | None = None) -> dict[str, Any]:
        collection = "predictions" if record.kind == "prediction" else "trainings"
        secrets: set[str] = set()
        version = self.store.versions.get(record.version_ref)
        if version is not None:
            schema = schemas.schema_for(version.kind, trigger_word=version.trigger_word)
            key = "TrainingInput" if record.kind == "training" else "Input"
            secrets = secret_fields(schema, key)
        output: Any = record.output
        if record.kind == "prediction" and record.output_files and not record.data_removed:
            output = [self.url(f"/delivery/{record.id}/{name}") for name in record.output_files]
        metrics: dict[str, Any] = {}
        if record.completed_at is not None:
            if record.started_at is not None:
                metrics["predict_time"] = round(record.completed_at - record.started_at, 3)
            metrics["total_time"] = round(record.completed_at - record.created_at, 3)
            if record.kind == "prediction" and record.output_files:
                metrics["image_count"] = len(record.output_files)
        body: dict[str, Any] = {
            "id": record.id,
            "model": record.model,
            "version": record.version,
            "input": redact_secrets(record.input, secrets),
            "logs": record.logs,
            "output": None if record.data_removed else output,
            "data_removed": record.data_removed,
            "error": record.error,
            "status": status_override or record.status,
            "source": "api",
            "created_at": isoformat(record.created_at),
            "started_at": isoformat(record.started_at),
            "completed_at": isoformat(record.completed_at),
            "metrics": metrics,
            "urls": {
                "get": self.url(f"/v1/{collection}/{record.id}"),
                "cancel": self.url(f"/v1/{collection}/{record.id}/cancel"),
                "web": self.url(f"/p/{record.id}"),
            },
        }
        if record.webhook is not None:
            body["webhook"] = record.webhook
            body["webhook_events_filter"] = record.webhook_events_filter or ["output", "completed"]
        if record.webhook_completed is not None:
            body["webhook_completed"] = record.webhook_completed
        if record.deadline is not None:
            body["deadline"] = isoformat(record.deadline)
        return body
