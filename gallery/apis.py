"""The gallery API under /api/v1/: generations, images, collections, share links, the catalogue,
and the simple service `image/{model_name}`. Views parse input and call services/selectors."""

from __future__ import annotations

import base64
import binascii
import time

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.core.validators import URLValidator
from django.http import FileResponse, HttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api import DefaultCursorPagination
from core.exceptions import DomainError, NotFound

from . import selectors, services
from .media import file_response, media_url
from .models import Collection, GeneratedImage, Generation, ShareLink, StyleLora, StylePreset
from .services.parameters import ASPECT_RATIOS, CUSTOM, FLUX_MODELS, MEGAPIXELS, OUTPUT_FORMATS

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `errors` names each field."),
    401: OpenApiResponse(description="Not signed in, or the token is not valid."),
    404: OpenApiResponse(description="Not found (or not yours)."),
}
CREATE_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(description="Not enough credits, or a plan limit (`code` says which)."),
    429: OpenApiResponse(description="Too many requests or the daily limit: see `Retry-After`."),
}
IMAGE_MEDIA = {
    (200, "image/*"): OpenApiTypes.BINARY,
    302: OpenApiResponse(description="With S3 storage: a presigned URL that expires soon."),
    404: OpenApiResponse(description="Not found (or not yours, or not approved)."),
}


class GenerationThrottleMixin:
    """The `generation` rate applies to creating, not to reading."""

    def get_throttles(self):
        self.throttle_scope = "generation" if self.request.method == "POST" else None
        return super().get_throttles()


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
            "is_favourite",
            "placeholder_color",
            "placeholder",
            "thumbnail_url",
            "url",
            "download_url",
            "created_at",
        ]

    def _visible(self, image) -> bool:
        return image.moderation_state == GeneratedImage.Moderation.APPROVED

    @extend_schema_field(OpenApiTypes.URI)
    def get_thumbnail_url(self, image) -> str | None:
        if not self._visible(image):
            return None
        view = reverse("api:gallery-image-thumbnail", kwargs={"image_id": image.id})
        return media_url(self.context["request"], name=image.thumbnail.name, view_url=view)

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, image) -> str | None:
        if not self._visible(image):
            return None
        view = reverse("api:gallery-image-file", kwargs={"image_id": image.id})
        return media_url(self.context["request"], name=image.file.name, view_url=view)

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, image) -> str | None:
        if not self._visible(image):
            return None
        view = reverse("api:gallery-image-download", kwargs={"image_id": image.id})
        return self.context["request"].build_absolute_uri(view)

    @extend_schema_field(ModelRefOutput)
    def get_model(self, image) -> dict:
        generation = image.generation
        return {"id": generation.lora_model_id, "name": generation.model_label}


class GenerationOutput(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    images = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    style_preset = serializers.UUIDField(source="style_preset_id", allow_null=True)
    style = serializers.UUIDField(source="style_lora_id", allow_null=True)

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
        view = reverse("api:gallery-generation-detail", kwargs={"generation_id": generation.id})
        return self.context["request"].build_absolute_uri(view)


def _generations_data(request, generations) -> list:
    generations = list(generations)
    images = selectors.generation_visible_images(generations=generations)
    context = {"request": request, "images": images}
    return GenerationOutput(generations, many=True, context=context).data


class ImageDetailOutput(ImageOutput):
    generation = serializers.SerializerMethodField()
    collections = serializers.SerializerMethodField()

    class Meta(ImageOutput.Meta):
        fields = [*ImageOutput.Meta.fields, "generation", "collections"]

    @extend_schema_field(GenerationOutput)
    def get_generation(self, image) -> dict:
        return GenerationOutput(image.generation, context={**self.context, "images": {}}).data

    @extend_schema_field(serializers.ListField(child=serializers.UUIDField()))
    def get_collections(self, image) -> list:
        return [str(pk) for pk in image.collections.values_list("id", flat=True)]


# --- Input ----------------------------------------------------------------------------------


@extend_schema_field(
    {
        "type": "string",
        "description": "A file (multipart), a data: URI or an http(s) URL.",
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
        choices=[*ASPECT_RATIOS, CUSTOM], required=False, allow_null=True
    )
    width = serializers.IntegerField(required=False, allow_null=True, help_text="256–1440, custom")
    height = serializers.IntegerField(required=False, allow_null=True, help_text="256–1440, custom")
    prompt_strength = serializers.FloatField(required=False, allow_null=True, help_text="0–1")
    model = serializers.ChoiceField(choices=FLUX_MODELS, required=False, allow_null=True)
    num_outputs = serializers.IntegerField(required=False, allow_null=True, help_text="1–4")
    num_inference_steps = serializers.IntegerField(
        required=False, allow_null=True, help_text="1–50 (1–4 on the default model)"
    )
    guidance_scale = serializers.FloatField(required=False, allow_null=True, help_text="0–10")
    seed = serializers.IntegerField(required=False, allow_null=True, help_text="0 or more")
    output_format = serializers.ChoiceField(choices=OUTPUT_FORMATS, required=False, allow_null=True)
    output_quality = serializers.IntegerField(required=False, allow_null=True, help_text="0–100")
    disable_safety_checker = serializers.BooleanField(
        required=False, allow_null=True, help_text="Ignored: the safety checker is always on."
    )
    go_fast = serializers.BooleanField(required=False, allow_null=True)
    megapixels = serializers.ChoiceField(choices=MEGAPIXELS, required=False, allow_null=True)
    lora_scale = serializers.FloatField(required=False, allow_null=True, help_text="−1 to 3")
    extra_lora_scale = serializers.FloatField(required=False, allow_null=True, help_text="−1 to 3")

    PARAMETERS = (
        "aspect_ratio", "width", "height", "prompt_strength", "model", "num_outputs",
        "num_inference_steps", "guidance_scale", "seed", "output_format", "output_quality",
        "go_fast", "megapixels", "lora_scale", "extra_lora_scale",
    )  # fmt: skip


def _pictures(data: dict, request: services.GenerationRequest) -> None:
    image, mask = data.get("image"), data.get("mask")
    if image and mask and image[0] != mask[0]:
        raise DomainError(
            "Give the mask the same way as the image (both files or both URLs).", field="mask"
        )
    if image:
        if image[0] == "url":
            request.image_url = image[1]
        else:
            request.image = image[1]
    if mask:
        if mask[0] == "url":
            request.mask_url = mask[1]
        else:
            request.mask = mask[1]


# --- Generations ----------------------------------------------------------------------------


class GenerationCreateOutput(serializers.Serializer):
    batch_id = serializers.UUIDField(allow_null=True)
    generations = GenerationOutput(many=True)


class GenerationListApi(GenerationThrottleMixin, APIView):
    pagination_class = DefaultCursorPagination  # also tells the schema the list is paged

    @extend_schema_serializer(component_name="GenerationCreateInput")
    class InputSerializer(ParametersInput):
        lora_model = serializers.UUIDField(
            required=False, allow_null=True, help_text="One of your ready models; empty: default"
        )
        prompt = serializers.CharField(
            required=False, allow_blank=True, max_length=4000, trim_whitespace=True
        )
        image = PictureField(required=False, allow_null=True)
        mask = PictureField(required=False, allow_null=True)
        style_preset = serializers.UUIDField(required=False, allow_null=True)
        style = serializers.UUIDField(
            required=False, allow_null=True, help_text="A style LoRA of the catalogue (styles/)."
        )
        extra_lora_model = serializers.UUIDField(
            required=False, allow_null=True, help_text="Another of your models as second LoRA."
        )
        batch = serializers.IntegerField(
            required=False, default=1, help_text="How many requests to send (each 1–4 outputs)."
        )

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Generation.Status.choices, required=False)

    @extend_schema(
        tags=["generations"],
        summary="Your generations, newest first",
        parameters=[FilterSerializer],
        responses={200: GenerationOutput(many=True), **ERRORS},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.generation_list(user=request.user, **filters.validated_data),
            request,
            view=self,
        )
        return paginator.get_paginated_response(_generations_data(request, page))

    @extend_schema(
        tags=["generations"],
        summary="Generate pictures",
        description=(
            "Reserves the credits (per output: 4 on `dev`, 1 on `schnell` by default), then "
            "sends the request to Replicate in the background. Poll the generation's `url` "
            "until `status` is `succeeded` (its `images` are then stored) or `failed` (the "
            "credits are refunded). `batch` sends n requests at once, each with its own seed. "
            "JSON or multipart (for `image` and `mask` files)."
        ),
        request={
            "application/json": InputSerializer,
            "multipart/form-data": InputSerializer,
        },
        responses={201: GenerationCreateOutput, **CREATE_ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        lora_model = None
        if values.get("lora_model"):
            lora_model = selectors.lora_model_for_generation(
                user=user, model_ref=str(values["lora_model"])
            )
        generation_request = services.GenerationRequest(
            prompt=values.get("prompt", ""),
            parameters={k: values.get(k) for k in ParametersInput.PARAMETERS},
            batch=values.get("batch", 1),
            source=Generation.Source.API,
        )
        _pictures(values, generation_request)
        if values.get("style_preset"):
            generation_request.style_preset = _field_lookup(
                "style_preset",
                lambda: selectors.style_preset_get(preset_id=values["style_preset"]),
            )
        if values.get("style"):
            generation_request.style_lora = _field_lookup(
                "style", lambda: selectors.style_lora_get(style_id=values["style"])
            )
        if values.get("extra_lora_model"):
            generation_request.extra_lora_model = _field_lookup(
                "extra_lora_model",
                lambda: selectors.lora_model_for_generation(
                    user=user, model_ref=str(values["extra_lora_model"])
                ),
            )
        generations = services.generation_create(
            user=user, lora_model=lora_model, request=generation_request
        )
        return Response(
            {
                "batch_id": generations[0].batch_id,
                "generations": _generations_data(request, generations),
            },
            status=status.HTTP_201_CREATED,
        )


def _field_lookup(field: str, lookup):
    from django.http import Http404

    try:
        return lookup()
    except (Http404, NotFound) as error:
        raise DomainError("Unknown or unavailable.", field=field, code="not_found") from error


class GenerationDetailApi(APIView):
    @extend_schema(
        tags=["generations"],
        summary="One generation, with its status and stored images",
        responses={200: GenerationOutput, **ERRORS},
    )
    def get(self, request, generation_id):
        generation = selectors.generation_get(user=request.user, generation_id=generation_id)
        return Response(_generations_data(request, [generation])[0])


class GenerationCancelApi(APIView):
    @extend_schema(
        tags=["generations"],
        summary="Cancel a generation that has not ended (the credits are refunded)",
        request=None,
        responses={
            200: GenerationOutput,
            409: OpenApiResponse(description="It has already ended."),
            **ERRORS,
        },
    )
    def post(self, request, generation_id):
        generation = selectors.generation_get(user=request.user, generation_id=generation_id)
        generation = services.generation_cancel(generation=generation)
        return Response(_generations_data(request, [generation])[0])


# --- Images ---------------------------------------------------------------------------------


class ImagePagination(DefaultCursorPagination):
    ordering = ("-created_at", "-id")


class ImageFilterSerializer(serializers.Serializer):
    model = serializers.CharField(
        required=False, help_text="A model id, or `default` for the platform's model."
    )
    collection = serializers.UUIDField(required=False)
    favourite = serializers.BooleanField(required=False, allow_null=True, default=None)
    created_from = serializers.DateField(required=False, help_text="First day (UTC), inclusive")
    created_to = serializers.DateField(required=False, help_text="Last day (UTC), inclusive")
    status = serializers.ChoiceField(
        choices=[*GeneratedImage.Moderation.values, "all"],
        required=False,
        default=GeneratedImage.Moderation.APPROVED,
        help_text="Moderation state; `all` for every one.",
    )

    def validate_model(self, value):
        if value != selectors.DEFAULT_MODEL:
            try:
                serializers.UUIDField().to_internal_value(value)
            except serializers.ValidationError as error:
                raise serializers.ValidationError("A model id, or “default”.") from error
        return value

    def validate(self, attrs):
        start, end = attrs.get("created_from"), attrs.get("created_to")
        if start and end and start > end:
            raise serializers.ValidationError({"created_to": "Must not be before created_from."})
        return attrs


class ImageListApi(APIView):
    pagination_class = ImagePagination

    @extend_schema(
        tags=["images"],
        summary="Your images, newest first (cursor pagination)",
        parameters=[ImageFilterSerializer],
        responses={200: ImageOutput(many=True), **ERRORS},
    )
    def get(self, request):
        filters = ImageFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        images = selectors.image_list(
            user=request.user, filters=selectors.ImageFilters(**filters.validated_data)
        )
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(images, request, view=self)
        data = ImageOutput(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class ImageDetailApi(APIView):
    @extend_schema(
        tags=["images"],
        summary="One image with every parameter of its generation",
        responses={200: ImageDetailOutput, **ERRORS},
    )
    def get(self, request, image_id):
        image = selectors.image_get(user=request.user, image_id=image_id)
        return Response(ImageDetailOutput(image, context={"request": request}).data)

    @extend_schema(
        tags=["images"],
        summary="Delete an image (its file and thumbnail too)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, image_id):
        services.image_delete(image=selectors.image_get(user=request.user, image_id=image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageFavouriteApi(APIView):
    @extend_schema(
        tags=["images"],
        summary="Mark as favourite",
        request=None,
        responses={200: ImageOutput, **ERRORS},
    )
    def post(self, request, image_id):
        return self._set(request, image_id, favourite=True)

    @extend_schema(
        tags=["images"],
        summary="Unmark as favourite",
        request=None,
        responses={200: ImageOutput, **ERRORS},
    )
    def delete(self, request, image_id):
        return self._set(request, image_id, favourite=False)

    def _set(self, request, image_id, *, favourite: bool):
        image = selectors.image_get(user=request.user, image_id=image_id)
        image = services.image_favourite_set(image=image, favourite=favourite)
        return Response(ImageOutput(image, context={"request": request}).data)


class ImageFileApi(APIView):
    variant = "file"

    @extend_schema(tags=["images"], summary="The picture", responses=IMAGE_MEDIA)
    def get(self, request, image_id):
        image = selectors.image_get_visible(user=request.user, image_id=image_id)
        if self.variant == "thumbnail":
            return file_response(name=image.thumbnail.name, media_type="image/webp")
        return file_response(
            name=image.file.name,
            media_type=image.media_type,
            filename=image.download_filename,
            attachment=self.variant == "download",
        )


class ImageThumbnailApi(ImageFileApi):
    variant = "thumbnail"

    @extend_schema(tags=["images"], summary="The thumbnail (WebP)", responses=IMAGE_MEDIA)
    def get(self, request, image_id):
        return super().get(request, image_id)


class ImageDownloadApi(ImageFileApi):
    variant = "download"

    @extend_schema(tags=["images"], summary="Download the original", responses=IMAGE_MEDIA)
    def get(self, request, image_id):
        return super().get(request, image_id)


class ImageAvatarApi(APIView):
    @extend_schema(
        tags=["images"],
        summary="Make this image your profile picture",
        request=None,
        responses={
            200: inline_serializer("AvatarSetOutput", {"detail": serializers.CharField()}),
            **ERRORS,
        },
    )
    def post(self, request, image_id):
        image = selectors.image_get_visible(user=request.user, image_id=image_id)
        services.image_set_as_avatar(user=request.user, image=image)
        return Response({"detail": "This image is now your profile picture."})


class ImageBulkApi(APIView):
    @extend_schema_serializer(component_name="ImageBulkInput")
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(
            choices=["delete", "move", "add", "remove", "favourite", "unfavourite"]
        )
        image_ids = serializers.ListField(
            child=serializers.UUIDField(), min_length=1, max_length=500
        )
        collection = serializers.UUIDField(
            required=False, help_text="Target of move/add, source of remove."
        )
        from_collection = serializers.UUIDField(
            required=False, help_text="For move: the collection the images leave."
        )

        def validate(self, attrs):
            if attrs["action"] in ("move", "add", "remove") and not attrs.get("collection"):
                raise serializers.ValidationError({"collection": "Choose a collection."})
            return attrs

    @extend_schema(
        tags=["images"],
        summary="Act on several images: delete, move/add/remove to a collection, favourite",
        request=InputSerializer,
        responses={
            200: inline_serializer("ImageBulkOutput", {"count": serializers.IntegerField()}),
            **ERRORS,
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        count = bulk_apply(
            user=request.user,
            action=values["action"],
            image_ids=values["image_ids"],
            collection_id=values.get("collection"),
            from_collection_id=values.get("from_collection"),
        )
        return Response({"count": count})


def bulk_apply(*, user, action, image_ids, collection_id=None, from_collection_id=None) -> int:
    """Shared by the API and the page: parse ids into objects, then call one service."""
    images = selectors.images_of_user(user=user, image_ids=image_ids)
    if action == "delete":
        return services.images_delete(images=images)
    if action in ("favourite", "unfavourite"):
        for image in images:
            services.image_favourite_set(image=image, favourite=action == "favourite")
        return len(images)
    collection = _field_lookup(
        "collection",
        lambda: selectors.collection_get(user=user, collection_id=collection_id),
    )
    if action == "add":
        return services.collection_images_add(collection=collection, images=images)
    if action == "remove":
        return services.collection_images_remove(collection=collection, images=images)
    source = None
    if from_collection_id:
        source = _field_lookup(
            "from_collection",
            lambda: selectors.collection_get(user=user, collection_id=from_collection_id),
        )
    return services.images_move(images=images, to_collection=collection, from_collection=source)


def zip_response(images) -> FileResponse:
    handle = services.images_zip(images=images)
    response = FileResponse(
        handle, as_attachment=True, filename="avatars-images.zip", content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response


class ImageZipApi(APIView):
    @extend_schema_serializer(component_name="ImageZipInput")
    class InputSerializer(serializers.Serializer):
        image_ids = serializers.ListField(child=serializers.UUIDField(), min_length=1)

        def validate_image_ids(self, value):
            if len(value) > settings.GALLERY_ZIP_MAX_IMAGES:
                raise serializers.ValidationError(
                    f"At most {settings.GALLERY_ZIP_MAX_IMAGES} images in one zip."
                )
            return value

    @extend_schema(
        tags=["images"],
        summary="Download several images as a zip (with a metadata.json)",
        request=InputSerializer,
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        images = [
            image
            for image in selectors.images_of_user(
                user=request.user, image_ids=data.validated_data["image_ids"]
            )
            if image.is_visible
        ]
        if not images:
            raise DomainError("None of these images can be downloaded.", field="image_ids")
        return zip_response(images)


# --- Collections ----------------------------------------------------------------------------


class CollectionOutput(serializers.ModelSerializer):
    image_count = serializers.IntegerField()
    favourite_count = serializers.IntegerField()

    class Meta:
        model = Collection
        fields = [
            "id",
            "name",
            "description",
            "image_count",
            "favourite_count",
            "created_at",
            "updated_at",
        ]


class CollectionListApi(APIView):
    pagination_class = DefaultCursorPagination

    @extend_schema_serializer(component_name="CollectionInput")
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        tags=["collections"],
        summary="Your collections, with their counts",
        responses={200: CollectionOutput(many=True), **ERRORS},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.collection_list(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(CollectionOutput(page, many=True).data)

    @extend_schema(
        tags=["collections"],
        summary="Create a collection (also used as a campaign)",
        request=InputSerializer,
        responses={201: CollectionOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        collection = services.collection_create(user=request.user, **data.validated_data)
        collection = selectors.collection_get(user=request.user, collection_id=collection.id)
        return Response(CollectionOutput(collection).data, status=status.HTTP_201_CREATED)


class CollectionDetailApi(APIView):
    @extend_schema_serializer(component_name="CollectionUpdateInput")
    class UpdateSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80, required=False)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    @extend_schema(
        tags=["collections"], summary="One collection", responses={200: CollectionOutput, **ERRORS}
    )
    def get(self, request, collection_id):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        return Response(CollectionOutput(collection).data)

    @extend_schema(
        tags=["collections"],
        summary="Rename or describe a collection",
        request=UpdateSerializer,
        responses={200: CollectionOutput, **ERRORS},
    )
    def patch(self, request, collection_id):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        data = self.UpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.collection_update(collection=collection, **data.validated_data)
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        return Response(CollectionOutput(collection).data)

    @extend_schema(
        tags=["collections"],
        summary="Delete a collection (its images stay in the gallery)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, collection_id):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        services.collection_delete(collection=collection)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CollectionImagesApi(APIView):
    @extend_schema_serializer(component_name="CollectionImagesInput")
    class InputSerializer(serializers.Serializer):
        image_ids = serializers.ListField(
            child=serializers.UUIDField(), min_length=1, max_length=500
        )

    @extend_schema(
        tags=["collections"],
        summary="Add images to a collection",
        request=InputSerializer,
        responses={200: CollectionOutput, **ERRORS},
    )
    def post(self, request, collection_id):
        return self._change(request, collection_id, services.collection_images_add)

    @extend_schema(
        tags=["collections"],
        summary="Take images out of a collection",
        request=InputSerializer,
        responses={200: CollectionOutput, **ERRORS},
    )
    def delete(self, request, collection_id):
        return self._change(request, collection_id, services.collection_images_remove)

    def _change(self, request, collection_id, service):
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        images = selectors.images_of_user(
            user=request.user, image_ids=data.validated_data["image_ids"]
        )
        if len(images) != len(set(data.validated_data["image_ids"])):
            raise DomainError("Unknown image.", field="image_ids", code="not_found")
        service(collection=collection, images=images)
        collection = selectors.collection_get(user=request.user, collection_id=collection_id)
        return Response(CollectionOutput(collection).data)


# --- Share links ----------------------------------------------------------------------------


class ShareLinkOutput(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()
    is_active = serializers.SerializerMethodField()
    image = serializers.UUIDField(source="image_id", allow_null=True)
    collection = serializers.UUIDField(source="collection_id", allow_null=True)

    class Meta:
        model = ShareLink
        fields = [
            "id",
            "url",
            "image",
            "collection",
            "is_active",
            "created_at",
            "expires_at",
            "revoked_at",
            "view_count",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, link) -> str:
        path = reverse("gallery:shared", kwargs={"token": services.share_link_token(link)})
        return self.context["request"].build_absolute_uri(path)

    def get_is_active(self, link) -> bool:
        return link.is_active()


class ShareLinkListApi(APIView):
    pagination_class = DefaultCursorPagination

    @extend_schema_serializer(component_name="ShareLinkInput")
    class InputSerializer(serializers.Serializer):
        image = serializers.UUIDField(required=False)
        collection = serializers.UUIDField(required=False)
        expires_in_days = serializers.IntegerField(
            required=False, help_text="Default: SHARE_LINK_DEFAULT_DAYS."
        )
        never_expires = serializers.BooleanField(required=False, default=False)

        def validate(self, attrs):
            if bool(attrs.get("image")) == bool(attrs.get("collection")):
                raise serializers.ValidationError(
                    {"image": "Share one image or one collection (give one of the two)."}
                )
            return attrs

    @extend_schema(
        tags=["share-links"],
        summary="Your share links",
        responses={200: ShareLinkOutput(many=True), **ERRORS},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.share_link_list(user=request.user), request, view=self
        )
        data = ShareLinkOutput(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        tags=["share-links"],
        summary="Share an image or a collection by a signed link",
        request=InputSerializer,
        responses={201: ShareLinkOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        image = collection = None
        if values.get("image"):
            image = _field_lookup(
                "image", lambda: selectors.image_get(user=request.user, image_id=values["image"])
            )
        else:
            collection = _field_lookup(
                "collection",
                lambda: selectors.collection_get(
                    user=request.user, collection_id=values["collection"]
                ),
            )
        link = services.share_link_create(
            user=request.user,
            image=image,
            collection=collection,
            expires_in_days=values.get("expires_in_days"),
            never_expires=values["never_expires"],
        )
        return Response(
            ShareLinkOutput(link, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class ShareLinkDetailApi(APIView):
    @extend_schema(
        tags=["share-links"], summary="One share link", responses={200: ShareLinkOutput, **ERRORS}
    )
    def get(self, request, link_id):
        link = selectors.share_link_get(user=request.user, link_id=link_id)
        return Response(ShareLinkOutput(link, context={"request": request}).data)

    @extend_schema(
        tags=["share-links"],
        summary="Revoke a share link (it answers 404 from now on)",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, link_id):
        services.share_link_revoke(
            link=selectors.share_link_get(user=request.user, link_id=link_id)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Catalogue ------------------------------------------------------------------------------


class StylePresetOutput(serializers.ModelSerializer):
    examples = serializers.SerializerMethodField()

    class Meta:
        model = StylePreset
        fields = ["id", "name", "description", "prompt_template", "aspect_ratio", "examples"]

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_examples(self, preset) -> list[str]:
        request = self.context["request"]
        return [
            request.build_absolute_uri(
                reverse("gallery:catalogue-image", kwargs={"kind": "example", "pk": example.pk})
            )
            for example in preset.examples.all()
        ]


class StyleLoraOutput(serializers.ModelSerializer):
    example_url = serializers.SerializerMethodField()

    class Meta:
        model = StyleLora
        fields = [
            "id",
            "name",
            "description",
            "extra_lora",
            "default_scale",
            "trigger_phrase",
            "example_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_example_url(self, style) -> str | None:
        if not style.example_image:
            return None
        path = reverse("gallery:catalogue-image", kwargs={"kind": "style", "pk": style.pk})
        return self.context["request"].build_absolute_uri(path)


class StylePresetListApi(APIView):
    @extend_schema(
        tags=["catalogue"],
        summary="Style presets: prompt templates ({trigger} is your model's trigger word)",
        responses={200: StylePresetOutput(many=True), **ERRORS},
    )
    def get(self, request):
        presets = selectors.style_preset_list()
        return Response(StylePresetOutput(presets, many=True, context={"request": request}).data)


class StyleLoraListApi(APIView):
    @extend_schema(
        tags=["catalogue"],
        summary="Style LoRAs usable as the second LoRA (`style`), with their default scale",
        responses={200: StyleLoraOutput(many=True), **ERRORS},
    )
    def get(self, request):
        styles = selectors.style_lora_list()
        return Response(StyleLoraOutput(styles, many=True, context={"request": request}).data)


# --- The simple service ---------------------------------------------------------------------


class GenerationFailed(DomainError):
    status_code = 422
    code = "generation_failed"


class SimpleImageApi(GenerationThrottleMixin, APIView):
    """`POST /api/v1/image/{model_name}`: the body and defaults of the simple service."""

    @extend_schema_serializer(component_name="SimpleImageInput")
    class InputSerializer(ParametersInput):
        prompt = serializers.CharField(max_length=4000)
        image = PictureField(required=False, allow_null=True)
        mask = PictureField(required=False, allow_null=True)
        extra_lora = serializers.CharField(
            required=False,
            allow_null=True,
            allow_blank=True,
            help_text="A style of the catalogue (name, id or reference) or one of your models.",
        )

    @extend_schema(
        tags=["generations"],
        summary="Generate and wait: the simple service",
        description=(
            "Takes the simple service's JSON body, with its defaults (1:1, 0.8, dev, 1, 28, "
            '3.0, webp, 80, false, false, "1", 1.0, 1.0); parameters left out are not sent. '
            "`model_name` is one of your models (its name or id) or `default` "
            "(black-forest-labs/flux-schnell). Answers the first picture's bytes once it is "
            "stored and approved, or 202 with the generation's URL when it takes longer than "
            "the wait (GENERATION_SYNC_WAIT_SECONDS). Same credits, limits and gallery as "
            "every other generation."
        ),
        parameters=[OpenApiParameter("model_name", str, OpenApiParameter.PATH)],
        request=InputSerializer,
        responses={
            (200, "image/*"): OpenApiTypes.BINARY,
            202: inline_serializer(
                "SimpleImagePending",
                {
                    "id": serializers.UUIDField(),
                    "status": serializers.CharField(),
                    "url": serializers.URLField(),
                },
            ),
            422: OpenApiResponse(description="The generation failed (the credits are refunded)."),
            **CREATE_ERRORS,
        },
    )
    def post(self, request, model_name):
        user = request.user
        lora_model = selectors.lora_model_for_generation(user=user, model_ref=model_name)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        generation_request = services.GenerationRequest(
            prompt=values["prompt"],
            parameters={k: values.get(k) for k in ParametersInput.PARAMETERS},
            source=Generation.Source.SIMPLE_API,
        )
        _pictures(values, generation_request)
        if values.get("extra_lora"):
            _simple_extra_lora(user, values["extra_lora"], generation_request)
        generation = services.generation_create(
            user=user, lora_model=lora_model, request=generation_request
        )[0]
        return self._wait(request, generation)

    def _wait(self, request, generation: Generation):
        deadline = time.monotonic() + settings.GENERATION_SYNC_WAIT_SECONDS
        delay = 0.1
        while True:
            generation.refresh_from_db(fields=["status", "error_message"])
            if generation.status == Generation.Status.SUCCEEDED:
                image = (
                    generation.images.filter(moderation_state=GeneratedImage.Moderation.APPROVED)
                    .order_by("index")
                    .first()
                )
                if image is None:
                    raise GenerationFailed("No picture of this generation can be shown.")
                with default_storage.open(image.file.name, "rb") as handle:
                    content = handle.read()
                response = HttpResponse(content, content_type=image.media_type)
                response["Content-Disposition"] = f'inline; filename="{image.download_filename}"'
                response["X-Generation-Id"] = str(generation.id)
                response["X-Image-Id"] = str(image.id)
                return response
            if generation.status in (Generation.Status.FAILED, Generation.Status.CANCELED):
                raise GenerationFailed(generation.error_message or "The generation failed.")
            if time.monotonic() >= deadline:
                break
            time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
            delay = min(delay * 1.5, 0.5)
        url = reverse("api:gallery-generation-detail", kwargs={"generation_id": generation.id})
        return Response(
            {
                "id": generation.id,
                "status": generation.status,
                "url": request.build_absolute_uri(url),
            },
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": request.build_absolute_uri(url)},
        )


def _simple_extra_lora(user, reference: str, generation_request) -> None:
    style = selectors.style_lora_find(reference=reference)
    if style is not None:
        generation_request.style_lora = style
        return
    try:
        model = selectors.lora_model_for_generation(user=user, model_ref=reference)
        if model is None:
            raise NotFound("The default model is not a LoRA.")
        generation_request.extra_lora_model = model
    except NotFound as error:
        raise DomainError(
            "Use a style of the catalogue (GET /api/v1/styles/) or one of your models.",
            field="extra_lora",
            code="unknown_lora",
        ) from error
