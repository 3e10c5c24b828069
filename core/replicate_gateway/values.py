"""Plain values handed to the rest of the project: a remote job, a remote model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import WebhookRejected

TERMINAL_STATUSES = frozenset({"succeeded", "failed", "canceled"})


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
    # A training's destination model ("owner/name") when Replicate says it: the API's objects
    # may leave it out, and the client derives it from a finished training's output.
    destination: str = ""

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
            destination=_destination(payload.get("destination"), payload.get("output")),
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
            destination=_destination(getattr(resource, "destination", None), resource.output),
        )


def _destination(named: Any, output: Any) -> str:
    if isinstance(named, str) and named:
        return named
    if isinstance(output, dict) and isinstance(output.get("version"), str):
        return output["version"].partition(":")[0]
    return ""


@dataclass(frozen=True)
class RemoteModel:
    owner: str
    name: str
    visibility: str
    latest_version_id: str | None

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


def remote_model(model) -> RemoteModel:
    latest = model.latest_version
    return RemoteModel(
        owner=model.owner,
        name=model.name,
        visibility=model.visibility,
        latest_version_id=latest.id if latest else None,
    )


def split_model_name(full_name: str) -> tuple[str, str]:
    owner, _, name = full_name.partition("/")
    if not owner or not name:
        raise ValueError(f"expected owner/name, got {full_name!r}")
    return owner, name
