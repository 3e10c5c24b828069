"""Jobs that run on Replicate (training runs, generations): one lifecycle, one retry policy."""

from .lifecycle import (
    STATUS_RANK,
    RemoteJobLifecycle,
    lifecycle_register,
    remote_time,
    status_advance,
)
from .registry import lifecycle_get, lifecycle_list

__all__ = [
    "STATUS_RANK",
    "RemoteJobLifecycle",
    "lifecycle_get",
    "lifecycle_list",
    "lifecycle_register",
    "remote_time",
    "status_advance",
]
