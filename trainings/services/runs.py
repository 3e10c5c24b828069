"""Training runs: start, submit to Replicate, follow, cancel, retry, reconcile.

A run's status only changes through `training_run_apply_remote` / `_transition`, along allowed
transitions, with a conditional UPDATE, so duplicate, late or out-of-order events (a
`processing` webhook after `succeeded`) change nothing.
"""

from __future__ import annotations

import logging
import math
import re
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.quotas import quota_check
from accounts.selectors import credit_reservation_id
from accounts.services import credits_capture, credits_refund, credits_reserve
from core import replicate_gateway
from core.exceptions import Conflict, DomainError
from core.remote_jobs import remote_jobs_reconcile, remote_time, status_advance
from core.webhooks import webhook_url

from ..models import Dataset, DatasetImage, LoraModel, LoraVersion, TrainingRun
from .parameters import TrainingParameters

logger = logging.getLogger(__name__)

Status = TrainingRun.Status

_LOG_TAIL_CHARS = 20_000
_PROGRESS = re.compile(r"(\d+)%\|[^|\n]*\|\s*(\d+)/(\d+)")

_PLAIN_ERRORS = (
    (
        re.compile(r"out of memory", re.I),
        "The training ran out of GPU memory. Try a smaller batch size or resolution.",
    ),
    (
        re.compile(r"zip", re.I),
        "The trainer could not read the photos. Check the dataset and try again.",
    ),
    (
        re.compile(r"nsfw", re.I),
        "The trainer refused the photos as unsafe content.",
    ),
)


def _reference(run: TrainingRun) -> str:
    return f"training_run:{run.id}"


def training_cost_estimate(*, parameters: TrainingParameters) -> int:
    """Credits reserved for a run: proportional to its steps (1 credit = 1 cent of GPU time)."""
    return max(1, math.ceil(parameters.steps * settings.TRAINING_CREDITS_PER_1000_STEPS / 1000))


def _cost_actual(predict_time: float | None) -> int | None:
    if predict_time is None:
        return None
    return max(1, math.ceil(predict_time * settings.TRAINING_CREDITS_PER_GPU_SECOND))


def plain_error_message(raw: str | None) -> str:
    """What a person is told when the trainer fails: plain words, no traceback."""
    text = (raw or "").strip()
    for pattern, message in _PLAIN_ERRORS:
        if pattern.search(text):
            return message
    if not text:
        return "The training failed on the image service. Your credits were refunded."
    first_line = text.splitlines()[-1][:200]
    return f"The training failed: {first_line}"


@transaction.atomic
def training_run_start(
    *,
    user,
    dataset: Dataset,
    lora_model: LoraModel,
    parameters: TrainingParameters,
    retry_of: TrainingRun | None = None,
) -> TrainingRun:
    """Check the dataset, reserve credits and queue the run; submission happens in a task."""
    from ..selectors import dataset_report

    if dataset.owner_id != user.pk or lora_model.owner_id != user.pk:
        raise DomainError("Unknown dataset or model.", code="not_found")
    if lora_model.training_runs.filter(
        status__in=[Status.QUEUED, Status.STARTING, Status.PROCESSING]
    ).exists():
        raise Conflict("This model is already training. Wait for it to finish or cancel it.")
    if dataset.images.filter(status=DatasetImage.Status.PENDING).exists():
        raise DomainError(
            "Some photos are still being processed. Try again in a moment.",
            code="dataset_processing",
            field="dataset",
        )
    report = dataset_report(dataset=dataset)
    if not report.can_train:
        first = report.blocking[0].message
        raise DomainError(
            f"The dataset is not ready for training: {first}",
            code="dataset_not_ready",
            field="dataset",
        )
    quota_check(user=user, kind="trainings_per_month")
    cost = training_cost_estimate(parameters=parameters)
    run = TrainingRun.objects.create(
        owner=user,
        dataset=dataset,
        lora_model=lora_model,
        retry_of=retry_of,
        parameters=parameters.as_dict(),
        image_count=report.usable,
        total_steps=parameters.steps,
        cost_estimate=cost,
    )
    credits_reserve(
        user=user, amount=cost, reason=f"Training of {lora_model.name}", reference=_reference(run)
    )
    LoraModel.objects.filter(pk=lora_model.pk).exclude(status=LoraModel.Status.READY).update(
        status=LoraModel.Status.TRAINING
    )
    from ..tasks import training_run_submit_task

    training_run_submit_task.delay_on_commit(str(run.id))
    return run


def training_run_submit(*, run_id) -> TrainingRun | None:
    """Upload the dataset zip and start the trainer. Safe to run twice: only a queued run that
    has no Replicate id yet is submitted."""
    from .datasets import dataset_training_archive
    from .lora_models import lora_model_remote_ensure

    run = TrainingRun.objects.select_related("lora_model", "dataset").filter(pk=run_id).first()
    if run is None or run.status != Status.QUEUED or run.replicate_training_id:
        return run
    if run.dataset is None:
        return training_run_fail(run=run, message="The dataset of this run was deleted.")
    lora_model = lora_model_remote_ensure(lora_model=run.lora_model)
    parameters = TrainingParameters.from_dict(run.parameters)
    with dataset_training_archive(
        dataset=run.dataset, trigger_word=lora_model.trigger_word
    ) as archive:
        images_url = replicate_gateway.file_upload(
            data=archive, filename=f"{run.dataset_id}.zip", content_type="application/zip"
        )
    job = replicate_gateway.training_start(
        destination=lora_model.replicate_full_name,
        training_input=parameters.trainer_input(
            images_url=images_url, trigger_word=lora_model.trigger_word
        ),
        webhook_url=webhook_url(kind="training"),
    )
    now = timezone.now()
    updated = TrainingRun.objects.filter(
        pk=run.pk, status=Status.QUEUED, replicate_training_id__isnull=True
    ).update(replicate_training_id=job.id, submitted_at=now, last_event_at=now)
    if not updated:
        # Canceled while we were uploading: stop the remote training too.
        replicate_gateway.training_cancel(training_id=job.id)
        run.refresh_from_db()
        return run
    run.refresh_from_db()
    return training_run_apply_remote(job=job) or run


def training_run_fail(*, run: TrainingRun, message: str) -> TrainingRun:
    """Submission failed for good: the run fails with a reason, the credits come back."""
    _transition(run, Status.FAILED, error_message=message[:500], completed_at=timezone.now())
    run.refresh_from_db()
    return run


def _progress(logs: str) -> tuple[int, int] | None:
    matches = _PROGRESS.findall(logs[-5000:])
    if not matches:
        return None
    _, current, total = matches[-1]
    return int(current), int(total)


def training_run_apply_remote(*, job: replicate_gateway.RemoteJob) -> TrainingRun | None:
    """Apply what Replicate says of a training to our run (from a webhook's task or a poll)."""
    run = TrainingRun.objects.filter(replicate_training_id=job.id).first()
    if run is None:
        logger.warning("no training run for replicate training %s", job.id)
        return None
    fields: dict = {"last_event_at": timezone.now()}
    if job.logs:
        fields["logs"] = job.logs[-_LOG_TAIL_CHARS:]
        progress = _progress(job.logs)
        if progress:
            fields["current_step"], total = progress
            fields["total_steps"] = total or run.total_steps
    if job.metrics:
        fields["metrics"] = job.metrics
    if job.started_at:
        fields["started_at"] = remote_time(job.started_at)
    target = Status(job.status) if job.status in Status.values else None
    if target is None or target == Status.QUEUED:
        return run
    if target in TrainingRun.TERMINAL:
        fields["completed_at"] = remote_time(job.completed_at) or timezone.now()
        fields["cost_actual"] = _cost_actual(job.metrics.get("predict_time"))
    if target == Status.FAILED:
        fields["error_message"] = plain_error_message(job.error)
    if target == Status.SUCCEEDED:
        fields["current_step"] = fields.get("total_steps") or run.total_steps
        version_id = job.output_version_id
        if not version_id:
            target = Status.FAILED
            fields["error_message"] = "The trainer finished without producing a model version."
    if target == run.status and target not in TrainingRun.TERMINAL:
        # Same status again (a logs event): only the details move, never backwards in time.
        TrainingRun.objects.filter(pk=run.pk, status=target).update(**fields)
    else:
        _transition(run, target, job=job, **fields)
    run.refresh_from_db()
    return run


@transaction.atomic
def _transition(run: TrainingRun, target: str, *, job=None, **fields) -> bool:
    if not status_advance(TrainingRun.objects, pk=run.pk, target=target, **fields):
        return False
    run.refresh_from_db()
    if target == Status.SUCCEEDED:
        _on_succeeded(run, job)
    elif target in (Status.FAILED, Status.CANCELED):
        _on_ended_without_model(run)
    return True


def _on_succeeded(run: TrainingRun, job) -> None:
    lora_model = LoraModel.objects.select_for_update().get(pk=run.lora_model_id)
    version, _ = LoraVersion.objects.get_or_create(
        replicate_version_id=job.output_version_id,
        defaults={
            "lora_model": lora_model,
            "weights_url": (job.output or {}).get("weights", "")[:500],
            "training_run": run,
        },
    )
    lora_model.current_version = version
    lora_model.status = LoraModel.Status.READY
    lora_model.save(update_fields=["current_version", "status", "updated_at"])
    credits_capture(reservation=_reservation_id(run))
    from ..tasks import training_run_notify_task

    training_run_notify_task.delay_on_commit(str(run.id))


def _on_ended_without_model(run: TrainingRun) -> None:
    reservation = _reservation_id(run)
    if reservation:
        credits_refund(reservation=reservation)
    LoraModel.objects.filter(pk=run.lora_model_id, current_version__isnull=True).update(
        status=LoraModel.Status.FAILED
    )
    LoraModel.objects.filter(pk=run.lora_model_id, current_version__isnull=False).update(
        status=LoraModel.Status.READY
    )


def _reservation_id(run: TrainingRun) -> int | None:
    return credit_reservation_id(reference=_reference(run))


def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """Cancel a run that has not ended; a queued one stops before it reaches Replicate."""
    if run.is_terminal:
        raise Conflict("This training has already ended.")
    if run.replicate_training_id:
        job = replicate_gateway.training_cancel(training_id=run.replicate_training_id)
        training_run_apply_remote(job=job)
        run.refresh_from_db()
        if run.is_terminal:
            return run
    _transition(run, Status.CANCELED, completed_at=timezone.now(), last_event_at=timezone.now())
    run.refresh_from_db()
    return run


def training_run_retry(*, user, run: TrainingRun) -> TrainingRun:
    """Start a new run with the same dataset and parameters as a failed or canceled one."""
    if run.status not in (Status.FAILED, Status.CANCELED):
        raise Conflict("Only a failed or canceled training can be retried.")
    if run.dataset is None:
        raise DomainError("The dataset of this training was deleted.", code="dataset_missing")
    return training_run_start(
        user=user,
        dataset=run.dataset,
        lora_model=run.lora_model,
        parameters=TrainingParameters.from_dict(run.parameters),
        retry_of=run,
    )


def training_run_refresh(*, replicate_training_id: str) -> TrainingRun | None:
    """Re-read a training from Replicate (the authoritative state) and apply it."""
    job = replicate_gateway.training_get(training_id=replicate_training_id)
    return training_run_apply_remote(job=job)


def training_runs_reconcile(*, quiet_for: timedelta | None = None) -> int:
    """Poll runs that have had no news for a while, so a lost webhook never leaves one stuck.

    Queued runs whose submission task was lost are submitted again.
    """
    from ..tasks import training_run_refresh_task, training_run_submit_task

    if quiet_for is None:
        quiet_for = timedelta(seconds=settings.TRAINING_RECONCILE_AFTER_SECONDS)
    return remote_jobs_reconcile(
        model=TrainingRun,
        remote_id_field="replicate_training_id",
        quiet_for=quiet_for,
        refresh_task=training_run_refresh_task,
        submit_task=training_run_submit_task,
    )
