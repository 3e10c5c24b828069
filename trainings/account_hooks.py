"""What the accounts app needs from trainings: usage counts for quotas, account erasure and
data export."""

import contextlib
import logging

from core import replicate_gateway
from core.files import storage_folder_delete
from core.models import WebhookDelivery
from core.remote_jobs.files import remote_files_forget
from likeness.models import IdentityCheck, ModelIdentity

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
    for folder in user.storage_folders:
        storage_folder_delete(f"datasets/{folder}")
    remote_ids = runs.exclude(replicate_id=None).values_list("replicate_id", flat=True)
    WebhookDelivery.objects.filter(remote_id__in=list(remote_ids)).delete()
    runs.delete()
    LoraModel.objects.filter(owner=user).delete()
    Dataset.objects.filter(owner=user).delete()


def export_trainings(*, user, archive) -> None:
    """Datasets with their photos (as prepared for training) and captions, models with their
    trigger words and versions, and training runs with their parameters and costs."""
    datasets = [
        {
            "id": str(dataset.id),
            "name": dataset.name,
            "target_size": dataset.target_size,
            "face_consent_at": dataset.face_consent_at,
            "created_at": dataset.created_at,
            "photos": [
                _photo_export(image, archive) for image in dataset.images.order_by("created_at")
            ],
        }
        for dataset in Dataset.objects.filter(owner=user).order_by("created_at")
    ]
    archive.add_json("trainings/datasets.json", datasets)
    archive.add_json(
        "trainings/models.json",
        [
            {
                "id": str(lora_model.id),
                "name": lora_model.name,
                "trigger_word": lora_model.trigger_word,
                "status": lora_model.status,
                "created_at": lora_model.created_at,
                # The face identity the model was trained on (likeness.ModelIdentity).
                "identity": _identity_export(lora_model),
                # The consent selfies' checks: what was decided and how, never the selfie.
                "identity_checks": [
                    _identity_check_export(check)
                    for check in lora_model.identity_checks.order_by("created_at")
                ],
                "versions": [
                    {
                        "replicate_version": version.replicate_version_id,
                        "training_run": str(version.training_run_id or ""),
                        "created_at": version.created_at,
                        "current": version.pk == lora_model.current_version_id,
                    }
                    for version in lora_model.versions.order_by("created_at")
                ],
            }
            for lora_model in LoraModel.objects.filter(owner=user).order_by("created_at")
        ],
    )
    archive.add_json(
        "trainings/runs.json",
        [
            {
                "id": str(run.id),
                "model": str(run.lora_model_id),
                "dataset": str(run.dataset_id) if run.dataset_id else None,
                "status": run.status,
                "parameters": run.parameters,
                "photos": run.image_count,
                "credits_reserved": run.cost_estimate,
                "credits_charged": run.cost_actual if run.status == "succeeded" else 0,
                "error": run.error_message,
                "created_at": run.created_at,
                "started_at": run.started_at,
                "completed_at": run.completed_at,
            }
            for run in TrainingRun.objects.filter(owner=user).order_by("created_at")
        ],
    )


def _identity_export(lora_model) -> dict | None:
    identity = ModelIdentity.objects.filter(lora_model=lora_model).first()
    if identity is None:
        return None
    return {
        "vector": identity.vector,
        "photo_count": identity.photo_count,
        "computed_at": identity.computed_at,
    }


def _identity_check_export(check: IdentityCheck) -> dict:
    return {
        "id": str(check.id),
        "training_run": str(check.training_run_id) if check.training_run_id else None,
        "outcome": check.outcome,
        "face_found_in_selfie": check.selfie_has_face,
        "selfie_captured_at": check.selfie_captured_at,
        "distance": check.distance,
        "reason": check.reason,
        "decided_by": check.decided_by_kind,
        "decided_at": check.decided_at,
        "created_at": check.created_at,
    }


def _photo_export(image, archive) -> dict:
    """A dataset photo's row, its file (as prepared for training) added to the archive."""
    row = {
        "id": str(image.id),
        "original_name": image.original_name,
        "status": image.status,
        "rejection": image.rejection_message,
        "caption": image.caption,
        "width": image.width,
        "height": image.height,
        "created_at": image.created_at,
        "file": None,
        # Face boxes (in the training copy's pixels) and their 128-number descriptions.
        "faces": image.faces,
        "faces_checked_at": image.faces_checked_at,
    }
    if image.training_file:
        extension = image.training_file.name.rsplit(".", 1)[-1]
        name = f"datasets/{image.dataset_id}/{image.id}.{extension}"
        try:
            archive.add_storage_file(name, image.training_file.name)
            row["file"] = name
        except FileNotFoundError:
            logger.warning("export: dataset photo %s is missing", image.training_file.name)
    return row
