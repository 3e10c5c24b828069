"""The one package that talks to Replicate (or to the bundled simulator, which speaks its API).

Nothing outside this package imports `replicate`. Callers get plain `RemoteJob` / `RemoteModel`
values and the project's own exceptions (`ReplicateServiceError` and its kinds), each with a
message fit to show a user. Every call has a timeout; calls that are safe to repeat are retried
with back-off and jitter on 429 (honouring `Retry-After`), 5xx and network errors, and creates
are retried only when the request certainly did not take effect (429, refused connection); a
create that may have taken effect without an answer raises `ReplicateUnconfirmed`, and the
recent jobs can be listed to find it (`jobs_created_between`).

Settings choose the backend: the real API when `REPLICATE_API_TOKEN` is set, the simulator
(`REPLICATE_BASE_URL`, `REPLICATE_SIMULATOR_TOKEN`) otherwise.
"""

from .client import get_client
from .errors import (
    ReplicateConfigurationError,
    ReplicateInvalidInput,
    ReplicateNotFound,
    ReplicateServiceError,
    ReplicateUnavailable,
    ReplicateUnconfirmed,
    WebhookRejected,
)
from .operations import (
    backend_check,
    destination_model_create,
    destination_model_delete,
    file_delete,
    file_id_from_url,
    file_upload,
    job_cancel,
    job_get,
    jobs_created_between,
    output_download,
    prediction_cancel,
    prediction_get,
    prediction_start,
    predictions_created_between,
    training_cancel,
    training_get,
    training_start,
    trainings_created_since,
)
from .values import TERMINAL_STATUSES, RemoteJob, RemoteModel
from .webhooks import WEBHOOK_TOLERANCE_SECONDS, webhook_id, webhook_secret_get, webhook_verify

__all__ = [
    "TERMINAL_STATUSES",
    "WEBHOOK_TOLERANCE_SECONDS",
    "RemoteJob",
    "RemoteModel",
    "ReplicateConfigurationError",
    "ReplicateInvalidInput",
    "ReplicateNotFound",
    "ReplicateServiceError",
    "ReplicateUnavailable",
    "ReplicateUnconfirmed",
    "WebhookRejected",
    "backend_check",
    "destination_model_create",
    "destination_model_delete",
    "file_delete",
    "file_id_from_url",
    "file_upload",
    "get_client",
    "job_cancel",
    "job_get",
    "jobs_created_between",
    "output_download",
    "prediction_cancel",
    "prediction_get",
    "prediction_start",
    "predictions_created_between",
    "training_cancel",
    "training_get",
    "training_start",
    "trainings_created_since",
    "webhook_id",
    "webhook_secret_get",
    "webhook_verify",
]
