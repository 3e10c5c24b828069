"""Jobs that run on Replicate (training runs, generations): one lifecycle, one retry policy."""

from .files import remote_file_remember, remote_files_forget
from .lifecycle import RemoteJobLifecycle, lifecycle_register
from .registry import lifecycle_get, lifecycle_list
from .status import STATUS_RANK, remote_time, status_advance
from .submission import SubmissionUnconfirmed

__all__ = [
    "STATUS_RANK",
    "RemoteJobLifecycle",
    "SubmissionUnconfirmed",
    "lifecycle_get",
    "lifecycle_list",
    "lifecycle_register",
    "remote_file_remember",
    "remote_files_forget",
    "remote_time",
    "status_advance",
]
