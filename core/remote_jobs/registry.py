"""The kinds of remote job the apps registered, by kind (`training`, `prediction`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lifecycle import RemoteJobLifecycle

_lifecycles: dict[str, RemoteJobLifecycle] = {}


def lifecycle_add(lifecycle: RemoteJobLifecycle) -> None:
    _lifecycles[lifecycle.kind] = lifecycle


def lifecycle_get(kind: str) -> RemoteJobLifecycle:
    return _lifecycles[kind]


def lifecycle_list() -> list[RemoteJobLifecycle]:
    return list(_lifecycles.values())
