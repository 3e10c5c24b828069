"""Generations: create (checks, quota, credits, inputs), and a generation's life on Replicate.

The life of a generation (submit, follow, cancel, reconcile) is the shared remote-job kernel,
`core.remote_jobs.RemoteJobLifecycle`; `GenerationLifecycle` adds only what is a prediction's
own: its input (with the init image and mask), the seed read from its logs, and its outputs,
copied into our storage before the generation is marked succeeded, so that "succeeded" always
means "the pictures are here".
"""

from __future__ import annotations

import io
import logging
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from accounts.quotas import quotas_check, user_row_lock
from accounts.services import credits_reserve_many
from core import replicate_gateway
from core.broker import enqueues_work
from core.exceptions import DomainError, InvalidInput
from core.remote_jobs import RemoteJobLifecycle, lifecycle_register, remote_file_remember
from core.remote_jobs.tasks import remote_job_submit_task
from core.webhooks import webhook_url
from events import payloads as event_data
from events.services import event_publish
from moderation.classifier import image_classify
from moderation.services import prompt_guard
from moderation.strikes import suspension_check

from .. import imaging
from ..models import Generation, StyleLora, StylePreset
from ..tasks import generation_not_started_notify_task
from .images import generation_outputs_store
from .parameters import (
    DEFAULT_MODEL_LABEL,
    DEFAULT_MODEL_NAME,
    MAX_SEED,
    cost_per_image,
    parameters_check,
    prompt_check,
    prompt_with_phrase,
    prompt_with_trigger,
)
from .presets import preset_request_apply

logger = logging.getLogger(__name__)

Status = Generation.Status

_SEED_LINE = re.compile(r"Using seed:\s*(\d+)")
NSFW_MESSAGE = (
    "The safety checker blocked every picture of this generation. Try another prompt; "
    "your credits were refunded."
)


@dataclass
class GenerationRequest:
    """What a person asks for, parsed by a form or a serializer (types only, no ranges yet).

    Not an HTTP request: services name it `asked`."""

    prompt: str = ""
    parameters: dict[str, Any] = field(default_factory=dict)
    image: bytes | None = None
    mask: bytes | None = None
    image_url: str = ""
    mask_url: str = ""
    style_preset: StylePreset | None = None
    style_lora: StyleLora | None = None
    extra_lora_model: Any = None  # a LoraModel of the same user
    batch: int = 1
    source: str = Generation.Source.WEB


def plain_error_message(raw: str | None) -> str:
    """What a person is told when a prediction fails: plain words, no traceback."""
    text = (raw or "").strip()
    if "nsfw" in text.lower():
        return NSFW_MESSAGE
    if not text:
        return "The generation failed on the image service. Your credits were refunded."
    last_line = text.splitlines()[-1][:200]
    return f"The generation failed: {last_line} Your credits were refunded."


def _target_of(lora_model) -> tuple[str, str]:
    if lora_model is None:
        return DEFAULT_MODEL_NAME, DEFAULT_MODEL_LABEL
    version = lora_model.current_version
    return (
        f"{lora_model.replicate_full_name}:{version.replicate_version_id}",
        lora_model.name,
    )


def _extra_lora_reference(asked: GenerationRequest) -> tuple[str | None, float | None]:
    if asked.style_lora is not None:
        return asked.style_lora.extra_lora, asked.style_lora.default_scale
    model = asked.extra_lora_model
    if model is not None:
        version = model.current_version
        return f"{model.replicate_full_name}/{version.replicate_version_id}", None
    return None, None


def _check_request(*, user, lora_model, asked: GenerationRequest) -> dict[str, Any]:
    """Everything about what was asked that can be wrong, reported by field; returns the plan."""
    errors: dict[str, list[str]] = {}
    default_model = lora_model is None
    review_category = ""
    if lora_model is not None and (lora_model.owner_id != user.pk or not lora_model.is_ready):
        errors["lora_model"] = ["This model is not ready: wait until its training has finished."]
    prompt = asked.prompt
    if not (prompt or "").strip() and asked.style_preset is not None:
        trigger = lora_model.trigger_word if lora_model is not None else "a person"
        prompt = asked.style_preset.prompt_for(trigger)
    try:
        prompt = prompt_check(prompt)
    except InvalidInput as error:
        errors.update(error.errors)
    else:
        # Before anything else is checked, so that a refused prompt is always recorded.
        phrase = asked.style_lora.trigger_phrase if asked.style_lora is not None else ""
        verdict = prompt_guard(
            user=user, prompt=prompt_with_phrase(prompt, phrase), source=asked.source
        )
        review_category = verdict.category if verdict is not None else ""
    extra = asked.extra_lora_model
    if asked.style_lora is not None and extra is not None:
        errors["extra_lora"] = [
            "Choose a style from the catalogue or one of your models, not both."
        ]
    if extra is not None and (extra.owner_id != user.pk or not extra.is_ready):
        errors["extra_lora"] = ["This model is not ready: wait until its training has finished."]
    if asked.style_lora is not None and not asked.style_lora.is_active:
        errors["extra_lora"] = ["This style is no longer available."]
    has_extra = asked.style_lora is not None or extra is not None
    has_image = bool(asked.image or asked.image_url)
    has_mask = bool(asked.mask or asked.mask_url)
    if default_model:
        if has_image:
            errors["image"] = ["The default model does not take an image: choose one of yours."]
        if has_mask:
            errors["mask"] = ["The default model does not take a mask: choose one of yours."]
        if has_extra:
            errors["extra_lora"] = ["The default model takes no second LoRA."]
    elif has_mask and not has_image:
        errors["mask"] = ["A mask needs the image it applies to."]
    if not 1 <= asked.batch <= settings.GENERATION_MAX_BATCH:
        errors["batch"] = [f"Must be between 1 and {settings.GENERATION_MAX_BATCH}."]
    try:
        checked = parameters_check(
            asked.parameters,
            for_default_model=default_model,
            has_image=has_image,
            has_extra_lora=has_extra,
        )
    except InvalidInput as error:
        for name, messages in error.errors.items():
            errors.setdefault(name, []).extend(messages)
        checked = None
    image = mask = None
    if not errors and asked.image:
        try:
            image, size = imaging.init_image_normalise(asked.image)
            if asked.mask:
                mask = imaging.mask_normalise(asked.mask, size=size)
        except imaging.InputImageRejected as error:
            errors[error.field] = [error.message]
        for field_name, picture in (("image", image), ("mask", mask)):
            # What is sent, not what was uploaded: the classifier sees the re-encoded picture.
            if picture and not image_classify(picture).approved:
                errors[field_name] = [
                    "This picture cannot be used: the safety scan did not let it through."
                ]
    if errors:
        raise InvalidInput(errors)
    assert checked is not None
    sent = dict(checked.sent)
    extra_reference, extra_default_scale = _extra_lora_reference(asked)
    if extra_reference:
        sent["extra_lora"] = extra_reference
        if "extra_lora_scale" not in sent and extra_default_scale is not None:
            sent["extra_lora_scale"] = extra_default_scale
    if lora_model is not None:
        prompt_sent = prompt_with_trigger(prompt, lora_model.trigger_word)
    else:
        prompt_sent = prompt
    if asked.style_lora is not None:
        prompt_sent = prompt_with_phrase(prompt_sent, asked.style_lora.trigger_phrase)
    if has_mask:
        kind = Generation.Kind.INPAINT
    elif has_image:
        kind = Generation.Kind.IMG2IMG
    else:
        kind = Generation.Kind.TEXT2IMG
    return {
        "prompt": prompt,
        "prompt_sent": prompt_sent,
        "sent": sent,
        "num_outputs": checked.num_outputs,
        "unit_cost": cost_per_image(flux_model=checked.flux_model) * checked.num_outputs,
        "image": image,
        "mask": mask,
        "kind": kind,
        "review_category": review_category,
    }


@enqueues_work
def generation_create(*, user, lora_model, asked: GenerationRequest) -> list[Generation]:
    """Check, reserve credits and queue 1 to n generations; each is sent by a task.

    A batch of n requests shares a `batch_id`; with a seed s, request i uses s + i so that each
    has its own seed and the whole batch can be made again.
    """
    suspension_check(user=user)
    asked = preset_request_apply(asked, lora_model=lora_model)  # a chosen pack fills the gaps
    plan = _check_request(user=user, lora_model=lora_model, asked=asked)
    target, label = _target_of(lora_model)
    batch_id = uuid.uuid4() if asked.batch > 1 else None
    seed = plan["sent"].get("seed")
    saved_files: list[str] = []
    try:
        with transaction.atomic():
            # One lock serialises this user's quota checks and credit reservations.
            user_row_lock(user=user)
            quotas_check(
                user=user,
                amounts={
                    "generations_per_day": plan["num_outputs"] * asked.batch,
                    "storage_bytes": 1,
                },
                user_locked=True,
            )
            generations = []
            for index in range(asked.batch):
                parameters = dict(plan["sent"])
                if seed is not None:
                    parameters["seed"] = (seed + index) % (MAX_SEED + 1)
                generation = Generation(
                    owner=user,
                    lora_model=lora_model,
                    lora_version=lora_model.current_version if lora_model else None,
                    target=target,
                    model_label=label,
                    kind=plan["kind"],
                    source=asked.source,
                    prompt=plan["prompt"],
                    prompt_sent=plan["prompt_sent"],
                    parameters=parameters,
                    seed=parameters.get("seed"),
                    num_outputs=plan["num_outputs"],
                    batch_id=batch_id,
                    batch_index=index,
                    style_preset=asked.style_preset,
                    style_lora=asked.style_lora,
                    extra_lora_model=asked.extra_lora_model,
                    init_image_url=asked.image_url or "",
                    cost=plan["unit_cost"],
                    review_category=plan["review_category"],
                )
                if asked.mask_url:
                    generation.parameters["mask_url"] = asked.mask_url
                if plan["image"]:
                    generation.init_image.save("image.png", ContentFile(plan["image"]), save=False)
                    saved_files.append(generation.init_image.name)
                if plan["mask"]:
                    generation.mask.save("mask.png", ContentFile(plan["mask"]), save=False)
                    saved_files.append(generation.mask.name)
                generations.append(generation)
            Generation.objects.bulk_create(generations)
            reason = f"Generation with {label}" + (
                f" ({asked.style_preset.name})" if asked.style_preset else ""
            )
            credits_reserve_many(
                user=user,
                reservations=[
                    (generation.cost, reason, generation.credit_reference)
                    for generation in generations
                ],
                user_locked=True,
            )
            for generation in generations:
                remote_job_submit_task.delay_on_commit(generation_jobs.kind, str(generation.id))
    except BaseException:
        for name in saved_files:
            default_storage.delete(name)
        raise
    logger.info(
        "user %s queued %d generation(s) on %s", user.pk, len(generations), target.split(":")[0]
    )
    return generations


def _input_file(name: str, filename: str) -> io.BytesIO:
    with default_storage.open(name, "rb") as handle:
        stream = io.BytesIO(handle.read())
    stream.name = filename  # the client uploads it through the Files API under this name
    return stream


def _prediction_input(generation: Generation) -> dict[str, Any]:
    prediction_input: dict[str, Any] = {"prompt": generation.prompt_sent}
    parameters = dict(generation.parameters)
    mask_url = parameters.pop("mask_url", None)
    prediction_input.update(parameters)
    if generation.init_image:
        prediction_input["image"] = _input_file(generation.init_image.name, "image.png")
    elif generation.init_image_url:
        prediction_input["image"] = generation.init_image_url
    if generation.mask:
        prediction_input["mask"] = _input_file(generation.mask.name, "mask.png")
    elif mask_url:
        prediction_input["mask"] = mask_url
    return prediction_input


class GenerationLifecycle(RemoteJobLifecycle):
    kind = "prediction"
    model = Generation
    noun = "generation"
    reconcile_after_setting = "GENERATION_RECONCILE_AFTER_SECONDS"
    plain_error_message = staticmethod(plain_error_message)

    # Uploaded again by each attempt, under a new URL (or a URL the person gave).
    file_inputs = frozenset({"image", "mask"})
    # Pictures, decoded and scanned in the refresh that applies the success.
    stores_outputs = True

    def remote_input(self, job: Generation) -> dict[str, Any]:
        """The prediction's input, the init image and mask uploaded through the Files API."""
        values = _prediction_input(job)
        for key in self.file_inputs:
            stream = values.get(key)
            if isinstance(stream, io.IOBase):
                values[key] = replicate_gateway.file_upload(
                    data=stream, filename=stream.name, content_type="image/png"
                )
                # Remembered at once: deleted from Replicate when the generation ends.
                remote_file_remember(job=job, file_url=values[key])
        return values

    def on_submit_gave_up(self, job: Generation) -> None:
        generation_not_started_notify_task.delay_on_commit(str(job.id))

    def on_succeeded(self, job: Generation, remote) -> None:
        # Its pictures are stored and scanned by now (outputs_take runs before the success).
        event_publish(user=job.owner, type="generation.succeeded", data=event_data.generation(job))

    def on_ended_without_output(self, job: Generation) -> None:
        if job.status == Status.FAILED:  # a cancel was the person's own doing
            event_publish(user=job.owner, type="generation.failed", data=event_data.generation(job))

    def remote_create(
        self, job: Generation, remote_input: dict[str, Any]
    ) -> replicate_gateway.RemoteJob:
        model_name, _, version_id = job.target.partition(":")
        target = {"version_id": version_id} if version_id else {"model_name": model_name}
        return replicate_gateway.prediction_start(
            prediction_input=remote_input,
            webhook_url=webhook_url(kind=self.kind),
            **target,
        )

    def remote_target_matches(self, job: Generation, remote: replicate_gateway.RemoteJob) -> bool:
        """The version of a person's model, or the official model (whose predictions carry a
        placeholder for a version)."""
        model_name, _, version_id = job.target.partition(":")
        if version_id:
            return remote.version == version_id
        return remote.model == model_name

    def remote_details(self, job: Generation, remote: replicate_gateway.RemoteJob) -> dict:
        if match := _SEED_LINE.search(remote.logs or ""):
            return {"seed_used": int(match.group(1))}
        return {}

    def outputs_take(self, job: Generation, remote: replicate_gateway.RemoteJob) -> str | None:
        """Copy the pictures into our storage; a download that fails for a while raises
        ReplicateUnavailable (the task retries, reconciliation polls again later)."""
        urls = remote.output_urls
        if not urls:
            return "The image service finished without any picture. Your credits were refunded."
        seed = self.remote_details(job, remote).get("seed_used", job.seed_used or job.seed)
        try:
            generation_outputs_store(generation=job, urls=urls, seed=seed)
        except replicate_gateway.ReplicateUnavailable:
            raise
        except DomainError as error:  # ReplicateServiceError included
            logger.warning("outputs of %s could not be stored: %s", job.id, error)
            return (
                "The pictures could not be fetched from the image service. "
                "Your credits were refunded."
            )
        return None


generation_jobs = GenerationLifecycle()
lifecycle_register(generation_jobs)


def generation_cancel(*, generation: Generation) -> Generation:
    """Cancel a generation that has not ended; a queued one stops before it reaches Replicate."""
    return generation_jobs.cancel(job=generation)
