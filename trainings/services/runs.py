"""Training runs: start (checks, credits), and the run's life on Replicate.

The life of a run (submit, follow, cancel, reconcile) is the shared remote-job kernel,
`core.remote_jobs.RemoteJobLifecycle`; `TrainingRunLifecycle` adds only what is a training's
own: the dataset upload and the trainer's input, progress read from the trainer's logs, and
the model version a success produces.
"""

from __future__ import annotations

import logging
import math
import re

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.quotas import quota_check
from accounts.services import credits_reserve
from core import replicate_gateway
from core.broker import enqueues_work
from core.exceptions import Conflict, DomainError, NotFound
from core.models import ReplicateJob
from core.remote_jobs import RemoteJobLifecycle, lifecycle_register, remote_file_remember
from core.remote_jobs.tasks import remote_job_submit_task
from core.webhooks import webhook_url
from events import payloads as event_data
from events.services import event_publish
from likeness.services import (
    identity_check_run_ended,
    identity_gate_apply,
    identity_gate_claim,
)
from moderation.strikes import suspension_check

from ..models import Dataset, DatasetImage, LoraModel, LoraVersion, TrainingRun
from ..selectors import dataset_report
from .datasets import dataset_training_archive
from .lora_models import lora_model_remote_ensure
from .parameters import TrainingParameters

logger = logging.getLogger(__name__)

Status = TrainingRun.Status

_LOG_TAIL_CHARS = 20_000
_PROGRESS = re.compile(r"(\d+)%\|[^|\n]*\|\s*(\d+)/(\d+)")

_PLAIN_ERRORS = (
    (
        re.compile(r"out of memory", re.I),
        # The advice (failure_advice) fits the run; the stored error only says what happened.
        "The training ran out of GPU memory.",
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
    last_line = text.splitlines()[-1][:200]
    return f"The training failed: {last_line}"


def _progress(logs: str) -> tuple[int, int] | None:
    matches = _PROGRESS.findall(logs[-5000:])
    if not matches:
        return None
    _, current, total = matches[-1]
    return int(current), int(total)


class TrainingRunLifecycle(RemoteJobLifecycle):
    kind = "training"
    model = TrainingRun
    noun = "training"
    reconcile_after_setting = "TRAINING_RECONCILE_AFTER_SECONDS"
    plain_error_message = staticmethod(plain_error_message)

    # Uploaded again by each attempt, under a new URL.
    file_inputs = frozenset({"input_images"})

    def remote_input(self, job: TrainingRun) -> dict:
        """The trainer's input, the photos zipped and uploaded (the destination model is
        created on Replicate the first time)."""
        run = TrainingRun.objects.select_related("lora_model", "dataset").get(pk=job.pk)
        if run.dataset is None:
            raise DomainError("The dataset of this run was deleted.")
        if not run.dataset.images.filter(status=DatasetImage.Status.READY).exists():
            raise DomainError("The dataset of this run has no usable photos left.")
        lora_model = lora_model_remote_ensure(lora_model=run.lora_model)
        parameters = TrainingParameters.from_dict(run.parameters)
        with dataset_training_archive(
            dataset=run.dataset, trigger_word=lora_model.trigger_word
        ) as archive:
            images_url = replicate_gateway.file_upload(
                data=archive, filename=f"{run.dataset_id}.zip", content_type="application/zip"
            )
        # Remembered at once: the photos are deleted from Replicate when the run ends.
        remote_file_remember(job=run, file_url=images_url)
        return parameters.trainer_input(images_url=images_url, trigger_word=lora_model.trigger_word)

    def remote_create(self, job: TrainingRun, remote_input: dict) -> replicate_gateway.RemoteJob:
        return replicate_gateway.training_start(
            destination=self._destination(job),
            training_input=remote_input,
            webhook_url=webhook_url(kind=self.kind),
        )

    def remote_target_matches(self, job: TrainingRun, remote: replicate_gateway.RemoteJob) -> bool:
        """The trainer we run, and our model as its destination: Replicate's training objects
        may not name it (then the input's trigger word, unique on the platform, tells)."""
        return (
            remote.model == settings.REPLICATE_TRAINER_MODEL
            and remote.version == settings.REPLICATE_TRAINER_VERSION
            and remote.destination in ("", self._destination(job))
        )

    @staticmethod
    def _destination(job: TrainingRun) -> str:
        return LoraModel.objects.get(pk=job.lora_model_id).replicate_full_name

    def remote_details(self, job: TrainingRun, remote: replicate_gateway.RemoteJob) -> dict:
        fields: dict = {}
        if remote.logs:
            fields["logs"] = remote.logs[-_LOG_TAIL_CHARS:]
            if progress := _progress(remote.logs):
                fields["current_step"], total = progress
                fields["total_steps"] = total or job.total_steps
        if remote.status in ReplicateJob.TERMINAL:
            fields["cost_actual"] = _cost_actual(remote.metrics.get("predict_time"))
        if remote.status == Status.SUCCEEDED:
            fields["current_step"] = fields.get("total_steps") or job.total_steps
        return fields

    def outputs_take(self, job: TrainingRun, remote: replicate_gateway.RemoteJob) -> str | None:
        if not remote.output_version_id:
            return "The trainer finished without producing a model version."
        return None

    def on_succeeded(self, job: TrainingRun, remote: replicate_gateway.RemoteJob | None) -> None:
        lora_model = LoraModel.objects.select_for_update().get(pk=job.lora_model_id)
        version, _ = LoraVersion.objects.get_or_create(
            replicate_version_id=remote.output_version_id,
            defaults={
                "lora_model": lora_model,
                "weights_url": (remote.output or {}).get("weights", "")[:500],
                "training_run": job,
            },
        )
        lora_model.current_version = version
        lora_model.status = LoraModel.Status.READY
        lora_model.save(update_fields=["current_version", "status", "updated_at"])
        from likeness.scoring import model_identity_update

        # What its pictures are scored against: the person in the photos it was trained on.
        model_identity_update(lora_model=lora_model, dataset=job.dataset)
        event_publish(user=job.owner, type="training.succeeded", data=event_data.training_run(job))
        from ..tasks import training_run_notify_task  # the tasks module imports the services

        training_run_notify_task.delay_on_commit(str(job.id))
        from gallery.services.starter_pack import starter_pack_request  # gallery imports us

        # Once per model: made by a task after this success has committed.
        starter_pack_request(lora_model=lora_model)

    def held_jobs(self) -> Q:
        """Runs waiting for a moderator to check their consent selfie (likeness.services)."""
        return Q(identity_checks__outcome="waiting_for_review")

    def submit(self, *, job_id) -> TrainingRun | None:
        # A held run goes to Replicate only once released by a moderator's approval.
        if TrainingRun.objects.filter(self.held_jobs(), pk=job_id).exists():
            return TrainingRun.objects.get(pk=job_id)
        return super().submit(job_id=job_id)

    def on_ended_without_output(self, job: TrainingRun) -> None:
        identity_check_run_ended(run=job)  # canceled while held: out of the moderators' queue
        if job.status == Status.FAILED:  # a cancel was the person's own doing
            event_publish(user=job.owner, type="training.failed", data=event_data.training_run(job))
            from ..tasks import training_run_notify_task

            training_run_notify_task.delay_on_commit(str(job.id))
        # The model keeps the version it had; a model that never trained is marked failed.
        LoraModel.objects.filter(pk=job.lora_model_id, current_version__isnull=True).update(
            status=LoraModel.Status.FAILED
        )
        LoraModel.objects.filter(pk=job.lora_model_id, current_version__isnull=False).update(
            status=LoraModel.Status.READY
        )


training_run_jobs = TrainingRunLifecycle()
lifecycle_register(training_run_jobs)


@enqueues_work
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
    suspension_check(user=user)
    if dataset.owner_id != user.pk or lora_model.owner_id != user.pk:
        raise NotFound("Unknown dataset or model.")
    if lora_model.training_runs.filter(status__in=TrainingRun.ACTIVE).exists():
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
    identity_check = identity_gate_claim(lora_model=lora_model)
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
        user=user,
        amount=cost,
        reason=f"Training of {lora_model.name}",
        reference=run.credit_reference,
    )
    LoraModel.objects.filter(pk=lora_model.pk).exclude(status=LoraModel.Status.READY).update(
        status=LoraModel.Status.TRAINING
    )
    if identity_check is not None and identity_gate_apply(
        check=identity_check, run=run, dataset=dataset
    ):
        return run  # held, credits reserved, until a moderator decides (training_run_release)
    remote_job_submit_task.delay_on_commit(training_run_jobs.kind, str(run.id))
    return run


def training_run_release(*, run: TrainingRun) -> bool:
    """A held run whose consent selfie a moderator approved: sent to Replicate. The caller's
    decision happens once (a conditional update), so this is called once per run."""
    now = timezone.now()
    waiting = TrainingRun.objects.filter(
        pk=run.pk, status=Status.QUEUED, replicate_id__isnull=True
    ).update(last_event_at=now)
    if waiting:
        remote_job_submit_task.delay_on_commit(training_run_jobs.kind, str(run.pk))
    return bool(waiting)


def training_run_refuse(*, run: TrainingRun, reason: str) -> TrainingRun:
    """A held run whose consent selfie a moderator rejected: it fails with `reason`, and its
    credits come back (the kernel's own failure path)."""
    run.refresh_from_db()
    if run.is_terminal:
        return run
    return training_run_jobs.fail(job=run, message=reason)


def training_run_cancel(*, run: TrainingRun) -> TrainingRun:
    """Cancel a run that has not ended; a queued one stops before it reaches Replicate."""
    return training_run_jobs.cancel(job=run)


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
