"""Serializers and input helpers shared by the gallery API's modules."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.api import JobMetricsOutput, RangedFloatField, RangedIntegerField
from core.exceptions import DomainError, NotFound
from core.url_templates import reverse_uuid, uuid_path_maker

from .. import selectors, services
from ..media import media_url
from ..models import GeneratedImage, Generation
from ..services.parameters import (
    ASPECT_RATIOS,
    CUSTOM,
    FLUX_MODELS,
    MAX_SEED,
    MEGAPIXELS,
    OUTPUT_FORMATS,
)

ASPECT_RATIO_CHOICES = (*ASPECT_RATIOS, CUSTOM)
# A URL the server sends when there is something to link to, null otherwise.
NULLABLE_URI = {"type": "string", "format": "uri", "nullable": True}


class GenerationThrottleMixin:
    """The `generation` rate applies to creating, not to reading."""

    def get_throttles(self):
        self.throttle_scope = "generation" if self.request.method == "POST" else None
        return super().get_throttles()


def field_lookup(field: str, lookup: Callable):
    """A selector's NotFound for an id given in the body: a 400 naming the field, not a 404."""
    try:
        return lookup()
    except NotFound as error:
        raise DomainError("Unknown or unavailable.", field=field, code="not_found") from error


# --- Output ---------------------------------------------------------------------------------


class ModelRefOutput(serializers.Serializer):
    id = serializers.UUIDField(allow_null=True)
    name = serializers.CharField()


class ImageOutput(serializers.ModelSerializer):
    """An image in a list: enough for a grid, with its thumbnail's URL."""

    thumbnail_url = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()
    generation_id = serializers.UUIDField()
    model = serializers.SerializerMethodField()
    prompt = serializers.CharField(source="generation.prompt")
    format = serializers.ChoiceField(choices=OUTPUT_FORMATS)
    moderation_reason = serializers.SerializerMethodField()
    placeholder = serializers.SerializerMethodField()
    likeness = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        min_value=0,
        max_value=100,
        help_text="How much it looks like the person the model was trained on (0-100); null "
        "when no face was found or the model has no face identity (no consent given, or the "
        "platform's default model).",
    )
    has_face = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Whether a face was found; null when it was not looked for.",
    )

    class Meta:
        model = GeneratedImage
        fields = [
            "id",
            "generation_id",
            "model",
            "prompt",
            "width",
            "height",
            "format",
            "size_bytes",
            "seed",
            "moderation_state",
            "moderation_reason",
            "is_favourite",
            "likeness",
            "has_face",
            "placeholder_color",
            "placeholder",
            "thumbnail_url",
            "url",
            "download_url",
            "created_at",
        ]

    def _path(self, name: str, image_id) -> str:
        # Reversed once per list, not per image (core.url_templates).
        makers = self.context.setdefault("_path_makers", {})
        if name not in makers:
            makers[name] = uuid_path_maker(name, kwarg="image_id")
        return makers[name](image_id)

    def _viewable(self, image) -> bool:
        # Asked four times per image: the viewer is made once per list.
        viewer = self.context.get("_viewer")
        if viewer is None:
            viewer = self.context["_viewer"] = selectors.Viewer.of(self.context["request"].user)
        return selectors.image_viewable(viewer=viewer, image=image)

    def get_placeholder(self, image) -> str | None:
        """The tiny blurred preview: a preview all the same, so null when the picture is not
        viewable (held or rejected)."""
        return image.placeholder if self._viewable(image) else None

    def get_moderation_reason(self, image) -> str | None:
        """Why it is held or was rejected: for its owner only (null for anyone else)."""
        return (
            image.moderation_reason if image.owner_id == self.context["request"].user.pk else None
        )

    @extend_schema_field(NULLABLE_URI)
    def get_thumbnail_url(self, image) -> str | None:
        if not self._viewable(image):
            return None
        view = self._path("api:gallery-image-thumbnail", image.id)
        return media_url(name=image.thumbnail.name, view_url=view, request=self.context["request"])

    @extend_schema_field(NULLABLE_URI)
    def get_url(self, image) -> str | None:
        if not self._viewable(image):
            return None
        view = self._path("api:gallery-image-file", image.id)
        return media_url(name=image.file.name, view_url=view, request=self.context["request"])

    @extend_schema_field(NULLABLE_URI)
    def get_download_url(self, image) -> str | None:
        if not self._viewable(image):
            return None
        view = self._path("api:gallery-image-download", image.id)
        return self.context["request"].build_absolute_uri(view)

    @extend_schema_field(ModelRefOutput)
    def get_model(self, image) -> dict:
        generation = image.generation
        return {"id": generation.lora_model_id, "name": generation.model_label}


class GenerationParametersOutput(serializers.Serializer):
    """The inputs sent to the model (those left out were not sent: the model's defaults
    applied)."""

    aspect_ratio = serializers.ChoiceField(choices=ASPECT_RATIO_CHOICES, required=False)
    width = serializers.IntegerField(required=False)
    height = serializers.IntegerField(required=False)
    prompt_strength = serializers.FloatField(required=False)
    base_model = serializers.ChoiceField(
        choices=FLUX_MODELS, required=False, help_text="The FLUX model the LoRA runs on."
    )
    num_outputs = serializers.IntegerField(required=False)
    num_inference_steps = serializers.IntegerField(required=False)
    guidance_scale = serializers.FloatField(required=False)
    seed = serializers.IntegerField(required=False)
    output_format = serializers.ChoiceField(choices=OUTPUT_FORMATS, required=False)
    output_quality = serializers.IntegerField(required=False)
    disable_safety_checker = serializers.BooleanField(required=False)
    go_fast = serializers.BooleanField(required=False)
    megapixels = serializers.ChoiceField(choices=MEGAPIXELS, required=False)
    lora_scale = serializers.FloatField(required=False)
    extra_lora = serializers.CharField(required=False, help_text="The second LoRA's reference.")
    extra_lora_scale = serializers.FloatField(required=False)
    mask_url = serializers.URLField(required=False)

    def to_representation(self, instance):
        # Stored under Replicate's input names, where `model` is the FLUX model; in this API
        # `model` is always the LoRA model, so the FLUX one is `base_model`.
        instance = dict(instance or {})
        if "model" in instance:
            instance["base_model"] = instance.pop("model")
        return super().to_representation(instance)


class GenerationOutput(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    parameters = GenerationParametersOutput()
    metrics = JobMetricsOutput()
    images = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    style_preset = serializers.UUIDField(source="style_preset_id", allow_null=True)
    style = serializers.UUIDField(source="style_lora_id", allow_null=True)
    retrying_until = serializers.DateTimeField(
        source="submit_retrying_until",
        read_only=True,
        allow_null=True,
        help_text="Set while Replicate does not answer the submission: the time until which "
        "it is tried again. Past it, the job fails and its credits are refunded.",
    )

    class Meta:
        model = Generation
        fields = [
            "id",
            "url",
            "status",
            "kind",
            "source",
            "model",
            "prompt",
            "prompt_sent",
            "parameters",
            "seed",
            "seed_used",
            "num_outputs",
            "batch_id",
            "batch_index",
            "style_preset",
            "style",
            "cost",
            "error_message",
            "retrying_until",
            "metrics",
            "images",
            "created_at",
            "submitted_at",
            "started_at",
            "completed_at",
        ]

    @extend_schema_field(ModelRefOutput)
    def get_model(self, generation) -> dict:
        return {"id": generation.lora_model_id, "name": generation.model_label}

    @extend_schema_field(ImageOutput(many=True))
    def get_images(self, generation) -> list:
        images = self.context.get("images", {}).get(generation.id, [])
        return ImageOutput(images, many=True, context=self.context).data

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, generation) -> str:
        view = reverse_uuid(
            "api:gallery-generation-detail", kwarg="generation_id", value=generation.id
        )
        return self.context["request"].build_absolute_uri(view)


def generations_data(request, generations) -> list:
    """Generations with the images of each that the caller may see (one query for them all)."""
    generations = list(generations)
    images = selectors.generation_visible_images(
        viewer=selectors.Viewer.of(request.user), generations=generations
    )
    context = {"request": request, "images": images}
    return GenerationOutput(generations, many=True, context=context).data


# --- Input ----------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "description": "A picture as a `data:` URI (base64 PNG, JPEG or WebP) or an http(s) "
        "URL we pass on as is.",
        "nullable": True,
    }
)
class PictureField(serializers.Field):
    """A picture given as an uploaded file, a `data:` URI, or an http(s) URL (passed on as is,
    never fetched by us). Parses to ("bytes", data) or ("url", url)."""

    default_error_messages = {
        "invalid": "Give a file, a data: URI or an http(s) URL.",
        "too_large": "The picture is too large.",
    }

    def to_internal_value(self, data):
        if hasattr(data, "read"):
            if data.size > settings.DATA_UPLOAD_MAX_MEMORY_SIZE:
                self.fail("too_large")
            return ("bytes", data.read())
        if not isinstance(data, str) or not data:
            self.fail("invalid")
        if data.startswith("data:"):
            header, sep, payload = data.partition(",")
            if not sep or not header.endswith(";base64"):
                self.fail("invalid")
            try:
                return ("bytes", base64.b64decode(payload, validate=True))
            except (binascii.Error, ValueError):
                self.fail("invalid")
        try:
            URLValidator(schemes=["http", "https"])(data)
        except DjangoValidationError:
            self.fail("invalid")
        return ("url", data)

    def to_representation(self, value):  # pragma: no cover - input only
        return None


class ParametersInput(serializers.Serializer):
    """The FLUX LoRA inputs; ranges are checked by the service (shared/replicate-api.md 6.2)."""

    aspect_ratio = serializers.ChoiceField(
        choices=ASPECT_RATIO_CHOICES, required=False, allow_null=True
    )
    width = RangedIntegerField(
        schema_range=(256, 1440),
        required=False,
        allow_null=True,
        help_text="Pixels, with the custom aspect ratio.",
    )
    height = RangedIntegerField(
        schema_range=(256, 1440),
        required=False,
        allow_null=True,
        help_text="Pixels, with the custom aspect ratio.",
    )
    prompt_strength = RangedFloatField(
        schema_range=(0, 1),
        required=False,
        allow_null=True,
        help_text="How much the image changes (image to image).",
    )
    model = serializers.ChoiceField(
        choices=FLUX_MODELS, required=False, allow_null=True, help_text="The FLUX base model."
    )
    num_outputs = RangedIntegerField(
        schema_range=(1, 4), required=False, allow_null=True, help_text="Pictures in one request."
    )
    num_inference_steps = RangedIntegerField(
        schema_range=(1, 50), required=False, allow_null=True, help_text="1–4 on the default model."
    )
    guidance_scale = RangedFloatField(schema_range=(0, 10), required=False, allow_null=True)
    seed = RangedIntegerField(
        schema_range=(0, MAX_SEED),
        required=False,
        allow_null=True,
        help_text="Random when left out.",
    )
    output_format = serializers.ChoiceField(choices=OUTPUT_FORMATS, required=False, allow_null=True)
    output_quality = RangedIntegerField(schema_range=(0, 100), required=False, allow_null=True)
    disable_safety_checker = serializers.BooleanField(
        required=False, allow_null=True, help_text="Ignored: the safety checker is always on."
    )
    go_fast = serializers.BooleanField(required=False, allow_null=True)
    megapixels = serializers.ChoiceField(choices=MEGAPIXELS, required=False, allow_null=True)
    lora_scale = RangedFloatField(schema_range=(-1, 3), required=False, allow_null=True)
    extra_lora_scale = RangedFloatField(schema_range=(-1, 3), required=False, allow_null=True)

    PARAMETERS = (
        "aspect_ratio", "width", "height", "prompt_strength", "model", "num_outputs",
        "num_inference_steps", "guidance_scale", "seed", "output_format", "output_quality",
        "go_fast", "megapixels", "lora_scale", "extra_lora_scale",
    )  # fmt: skip


def pictures_apply(data: dict, asked: services.GenerationRequest) -> None:
    """Put the parsed `image` and `mask` (PictureField) on a generation asked."""
    image, mask = data.get("image"), data.get("mask")
    if image and mask and image[0] != mask[0]:
        raise DomainError(
            "Give the mask the same way as the image (both files or both URLs).", field="mask"
        )
    if image:
        if image[0] == "url":
            asked.image_url = image[1]
        else:
            asked.image = image[1]
    if mask:
        if mask[0] == "url":
            asked.mask_url = mask[1]
        else:
            asked.mask = mask[1]
