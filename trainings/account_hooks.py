"""What the accounts app needs from trainings: usage counts for quotas, and account erasure."""

import contextlib
import logging

from core import replicate_gateway
from core.files import storage_folder_delete

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
    """Remote first (running trainings, then models and their versions), files, then rows.

    Safe to run again after a failure: whatever is already gone counts as done.
    """
    active = TrainingRun.objects.filter(
        owner=user,
        status__in=[TrainingRun.Status.STARTING, TrainingRun.Status.PROCESSING],
        replicate_id__isnull=False,
    )
    for training_id in active.values_list("replicate_id", flat=True):
        with contextlib.suppress(replicate_gateway.ReplicateNotFound):
            replicate_gateway.training_cancel(training_id=training_id)
    for lora_model in LoraModel.objects.filter(owner=user).exclude(replicate_name=None):
        replicate_gateway.destination_model_delete(full_name=lora_model.replicate_full_name)
    storage_folder_delete(f"datasets/{user.pk}")
    TrainingRun.objects.filter(owner=user).delete()
    LoraModel.objects.filter(owner=user).delete()
    Dataset.objects.filter(owner=user).delete()
