"""What the accounts app needs from trainings: usage counts for quotas, and account erasure."""

import contextlib
import logging

from core import replicate_gateway
from core.files import storage_folder_delete
from core.models import WebhookDelivery
from core.remote_jobs.files import remote_files_forget

from .models import Dataset, LoraModel, TrainingRun

logger = logging.getLogger(__name__)


def count_models(*, user, since=None) -> int:
    return LoraModel.objects.filter(owner=user).count()


def count_trainings(*, user, since=None) -> int:
    runs = TrainingRun.objects.filter(owner=user).exclude(
        status__in=[TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED]
    )
    if since is not None:
        runs = runs.filter(created_at__gte=since)
    return runs.count()


def erase_trainings_data(*, user) -> None:
    """Remote first (running trainings, the uploaded training zips, then models and their
    versions), files, then rows: the runs' webhook deliveries, which name their jobs, too.

    Safe to run again after a failure: whatever is already gone counts as done.
    """
    runs = TrainingRun.objects.filter(owner=user)
    active = runs.filter(
        status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.PROCESSING],
        replicate_id__isnull=False,
    )
    for training_id in active.values_list("replicate_id", flat=True):
        with contextlib.suppress(replicate_gateway.ReplicateNotFound):
            replicate_gateway.training_cancel(training_id=training_id)
    # The zips hold the person's photos. Normally deleted when each run ended; a failure then
    # leaves them here, and a failure now fails the erasure, which is retried.
    for run in runs.only("pk", "replicate_file_ids"):
        if run.replicate_file_ids:
            remote_files_forget(job=run)
    for lora_model in LoraModel.objects.filter(owner=user).exclude(replicate_name=None):
        replicate_gateway.destination_model_delete(full_name=lora_model.replicate_full_name)
    storage_folder_delete(f"datasets/{user.pk}")
    remote_ids = runs.exclude(replicate_id=None).values_list("replicate_id", flat=True)
    WebhookDelivery.objects.filter(remote_id__in=list(remote_ids)).delete()
    runs.delete()
    LoraModel.objects.filter(owner=user).delete()
    Dataset.objects.filter(owner=user).delete()
