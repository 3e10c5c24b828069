"""Style packs: their parameters (checked like a generation's), how a chosen pack fills in what
the person left out, and example pictures an admin takes from pictures made on the platform.

The catalogue's examples are shown to everyone, so they never show a person: an admin may copy a
picture of the default model made from words alone, or one of their own pictures, but not a
picture made with someone's model or from a photo they uploaded."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.exceptions import Conflict, InvalidInput

from ..models import GeneratedImage, Generation, StyleLora, StylePreset, StylePresetExample
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


LIKENESS_REFUSED = (
    "This picture may show its owner (it was made with their model or from their photo): "
    "only pictures of the default model made from words, or your own, can be shown to everyone."
)


def _catalogue_picture_check(image: GeneratedImage, *, by) -> None:
    """Conflict unless `image` may be shown to every signed-in person (see the module)."""
    if image.moderation_state != GeneratedImage.Moderation.APPROVED:
        raise Conflict("Only approved pictures can be examples.")
    generation = image.generation
    shows_a_person = (
        generation.lora_model_id is not None
        or generation.extra_lora_model_id is not None
        or generation.kind != Generation.Kind.TEXT2IMG
    )
    if shows_a_person and (by is None or image.owner_id != by.pk):
        raise Conflict(LIKENESS_REFUSED)


def _picture_copy(image: GeneratedImage) -> ContentFile:
    """The picture's bytes, copied (not referenced) so that deleting the picture or its owner's
    account leaves the example in place."""
    with default_storage.open(image.file.name, "rb") as handle:
        return ContentFile(handle.read())


def style_preset_example_from_image(*, image: GeneratedImage, by=None) -> StylePresetExample:
    """Copy an approved picture made with a pack into the catalogue as that pack's example, on
    behalf of the admin `by`; `source_note` says where it came from."""
    generation = image.generation
    if generation.style_preset_id is None:
        raise Conflict("This picture was not made with a style pack.")
    _catalogue_picture_check(image, by=by)
    preset = StylePreset.objects.get(pk=generation.style_preset_id)
    example = StylePresetExample(
        preset=preset,
        source_image=image,
        source_note=(
            f"Picture {image.id} of generation {generation.id} "
            f"(owner {image.owner.public_id}), made {image.created_at:%Y-%m-%d}."
        )[:300],
        position=preset.examples.count(),
    )
    example.image.save(f"example.{image.format}", _picture_copy(image), save=False)
    try:
        with transaction.atomic():
            example.save()
    except BaseException:
        default_storage.delete(example.image.name)
        raise
    return example


def style_lora_example_from_image(*, image: GeneratedImage, by=None) -> StyleLora:
    """Make an approved picture made with a catalogue style its example (replacing the one it
    had), on behalf of the admin `by`, under the same rule as a pack's examples."""
    generation = image.generation
    if generation.style_lora_id is None:
        raise Conflict("This picture was not made with a style from the catalogue.")
    _catalogue_picture_check(image, by=by)
    style = StyleLora.objects.get(pk=generation.style_lora_id)
    previous = style.example_image.name if style.example_image else ""
    style.example_image.save(f"example.{image.format}", _picture_copy(image), save=False)
    try:
        with transaction.atomic():
            style.save(update_fields=["example_image"])
    except BaseException:
        default_storage.delete(style.example_image.name)
        raise
    if previous:
        transaction.on_commit(lambda: default_storage.delete(previous))
    return style
