"""Style packs: their parameters (checked like a generation's), how a chosen pack fills in what
the person left out, and example pictures an admin takes from pictures made on the platform."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.exceptions import Conflict, InvalidInput

from ..models import GeneratedImage, StylePreset, StylePresetExample
from .parameters import parameters_check

if TYPE_CHECKING:
    from .generations import GenerationRequest

# What a pack may set. Not the seed or the number of pictures (the person's choice), nor sizes
# and image inputs (they depend on what the person brings).
PRESET_PARAMETER_NAMES = (
    "aspect_ratio", "guidance_scale", "num_inference_steps", "lora_scale", "extra_lora_scale",
    "output_format", "output_quality", "model", "megapixels", "go_fast",
)  # fmt: skip
# Inputs the default model (FLUX schnell) does not take, or takes with other ranges.
_NOT_FOR_DEFAULT_MODEL = (
    "guidance_scale", "num_inference_steps", "lora_scale", "extra_lora_scale", "model",
)  # fmt: skip


def preset_parameters_check(parameters: Any, *, has_extra_lora: bool) -> dict[str, Any]:
    """A pack's parameters, checked by the generation rules; ValidationError for the admin."""
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": "An object of parameter names and values."})
    unknown = sorted(set(parameters) - set(PRESET_PARAMETER_NAMES))
    if unknown:
        raise ValidationError(
            {
                "parameters": f"Not a pack parameter: {', '.join(unknown)}. "
                f"Allowed: {', '.join(PRESET_PARAMETER_NAMES)}."
            }
        )
    if parameters.get("aspect_ratio") == "custom":
        raise ValidationError({"parameters": "aspect_ratio: choose a ratio, not a custom size."})
    try:
        checked = parameters_check(
            parameters, for_default_model=False, has_image=False, has_extra_lora=True
        )
    except InvalidInput as error:
        raise ValidationError(
            {
                "parameters": [
                    f"{name}: {message}"
                    for name, messages in error.errors.items()
                    for message in messages
                ]
            }
        ) from error
    sent = {name: value for name, value in checked.sent.items() if name in parameters}
    if not has_extra_lora:
        sent.pop("extra_lora_scale", None)
    return sent


def preset_request_apply(asked: GenerationRequest, *, lora_model) -> GenerationRequest:
    """What was asked, with the chosen pack's parameters and style LoRA wherever the person set
    nothing: their own values win."""
    preset = asked.style_preset
    if preset is None:
        return asked
    parameters = dict(preset.parameters or {})
    if lora_model is None:
        for name in _NOT_FOR_DEFAULT_MODEL:
            parameters.pop(name, None)
    given = {
        name: value for name, value in asked.parameters.items() if value is not None and value != ""
    }
    style_lora = asked.style_lora
    pack_style = preset.style_lora
    if (
        style_lora is None
        and asked.extra_lora_model is None
        and lora_model is not None
        and pack_style is not None
        and pack_style.is_active
    ):
        style_lora = pack_style
    if style_lora is None:
        parameters.pop("extra_lora_scale", None)
    return dataclasses.replace(asked, parameters={**parameters, **given}, style_lora=style_lora)


def style_preset_example_from_image(*, image: GeneratedImage) -> StylePresetExample:
    """Copy an approved picture made with a pack into the catalogue as that pack's example.

    The file is copied (not referenced) so that deleting the picture or its owner's account
    leaves the example in place; `source_note` says where it came from."""
    generation = image.generation
    if generation.style_preset_id is None:
        raise Conflict("This picture was not made with a style pack.")
    if image.moderation_state != GeneratedImage.Moderation.APPROVED:
        raise Conflict("Only approved pictures can be examples.")
    preset = StylePreset.objects.get(pk=generation.style_preset_id)
    with default_storage.open(image.file.name, "rb") as handle:
        content = handle.read()
    example = StylePresetExample(
        preset=preset,
        source_image=image,
        source_note=(
            f"Picture {image.id} of generation {generation.id} "
            f"(owner {image.owner.public_id}), made {image.created_at:%Y-%m-%d}."
        )[:300],
        position=preset.examples.count(),
    )
    example.image.save(f"example.{image.format}", ContentFile(content), save=False)
    try:
        with transaction.atomic():
            example.save()
    except BaseException:
        default_storage.delete(example.image.name)
        raise
    return example
