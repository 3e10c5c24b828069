"""Images: the gallery list, one image, favourites, its files, the profile picture, acting on
several at once, and zips."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination, MessageOutput
from core.schema import ERRORS, error

from .. import downloads, selectors, services
from ..media import image_file_response, zip_response
from ..models import LOOKS_LIKE_ME, GeneratedImage
from ..services.bulk import BULK_ACTIONS, COLLECTION_ACTIONS
from .serializers import GenerationOutput, ImageOutput

# A picture's own answers: the gallery's only responses that are not JSON.
IMAGE_MEDIA = {
    (200, "image/*"): OpenApiTypes.BINARY,
    302: OpenApiResponse(description="With S3 storage: a presigned URL that expires soon."),
    401: ERRORS[401],
    404: error("Not found (or not yours, or not approved)."),
}


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


class ImagePagination(DefaultCursorPagination):
    ordering = ("-created_at", "-id")


class ImageLikenessPagination(DefaultCursorPagination):
    """Best likeness first: a keyset on one number that orders by likeness then creation time
    (selectors.LIKENESS_KEY), so pages need no OFFSET beyond images made in one microsecond."""

    ordering = ("-likeness_key", "-id")

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None:
            try:
                position = int(cursor.position)
            except ValueError as error:
                raise NotFound(self.invalid_cursor_message) from error
            if abs(position) >= 2**63:  # past a bigint: the database would refuse it
                raise NotFound(self.invalid_cursor_message)
        return cursor


ORDERINGS = {"-created_at": ImagePagination, "-likeness": ImageLikenessPagination}


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
    looks_like_me = serializers.BooleanField(
        required=False,
        default=False,
        help_text=f"Only pictures with a likeness of {LOOKS_LIKE_ME} or more.",
    )
    ordering = serializers.ChoiceField(
        choices=list(ORDERINGS),
        required=False,
        default="-created_at",
        help_text="`-created_at`: newest first; `-likeness`: best likeness first (pictures "
        "not scored last), then newest.",
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
        operation_id="images_list",
        summary="List your images",
        description="Newest first (or best likeness first with `ordering=-likeness`), "
        "approved ones unless `status` says otherwise; filter by model, collection, favourite, "
        "dates and likeness. Held and rejected images are listed without their URLs.",
        parameters=[ImageFilterSerializer],
        responses={200: ImageOutput(many=True), **ERRORS},
    )
    def get(self, request):
        filters = ImageFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        ordering = filters.validated_data.pop("ordering")
        sort = selectors.LIKENESS_SORT if ordering == "-likeness" else "newest"
        images = selectors.image_list(
            user=request.user, filters=selectors.ImageFilters(**filters.validated_data, sort=sort)
        )
        paginator = ORDERINGS[ordering]()
        page = paginator.paginate_queryset(images, request, view=self)
        data = ImageOutput(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class ImageDetailApi(APIView):
    @extend_schema(
        tags=["images"],
        operation_id="image_get",
        summary="Get an image",
        description="With every parameter of its generation and the collections it is in.",
        responses={200: ImageDetailOutput, **ERRORS},
    )
    def get(self, request, image_id):
        image = selectors.image_get(user=request.user, image_id=image_id)
        return Response(ImageDetailOutput(image, context={"request": request}).data)

    @extend_schema(
        tags=["images"],
        operation_id="image_delete",
        summary="Delete an image",
        description="Its file and thumbnail too; its share links stop working.",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, image_id):
        services.image_delete(image=selectors.image_get(user=request.user, image_id=image_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class ImageFavouriteApi(APIView):
    @extend_schema(
        tags=["images"],
        operation_id="image_favourite",
        summary="Mark an image as favourite",
        description="Marking it twice is no error.",
        request=None,
        responses={200: ImageOutput, **ERRORS},
    )
    def post(self, request, image_id):
        return self._set(request, image_id, favourite=True)

    @extend_schema(
        tags=["images"],
        operation_id="image_unfavourite",
        summary="Unmark an image as favourite",
        description="Unmarking one that is not a favourite is no error.",
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

    @extend_schema(
        tags=["images"],
        operation_id="image_file_get",
        summary="The picture",
        description="Shown inline, in its format (WebP, JPEG or PNG).",
        responses=IMAGE_MEDIA,
    )
    def get(self, request, image_id):
        viewer = selectors.Viewer.of(request.user)
        image = selectors.image_for_viewer(viewer=viewer, image_id=image_id)
        return image_file_response(image, variant=self.variant)


class ImageThumbnailApi(ImageFileApi):
    variant = "thumbnail"

    @extend_schema(
        tags=["images"],
        operation_id="image_thumbnail_get",
        summary="The thumbnail (WebP)",
        description="A small WebP for grids.",
        responses=IMAGE_MEDIA,
    )
    def get(self, request, image_id):
        return super().get(request, image_id)


class ImageDownloadApi(ImageFileApi):
    variant = "download"

    @extend_schema(
        tags=["images"],
        operation_id="image_download",
        summary="Download the original, or as JPEG, PNG or WebP",
        description=(
            "As an attachment, with a file name. With `as`, converted from the original to that "
            "format when asked for, without EXIF or GPS (the colour profile and the "
            "AI-generated mark stay); the file is then streamed, never a redirect."
        ),
        parameters=[
            OpenApiParameter(
                "as",
                str,
                enum=["jpeg", "png", "webp"],
                required=False,
                description="The format to convert to (empty: the original).",
            )
        ],
        responses={
            **IMAGE_MEDIA,
            400: error("Unknown format (`as` must be jpeg, png or webp)."),
        },
    )
    def get(self, request, image_id):
        requested = request.query_params.get("as")
        if requested is None:
            return super().get(request, image_id)
        viewer = selectors.Viewer.of(request.user)
        image = selectors.image_for_viewer(viewer=viewer, image_id=image_id)
        output_format = downloads.download_format_parse(requested, field="as")
        return downloads.image_download_response(image, output_format=output_format)


class ImageAvatarApi(APIView):
    @extend_schema(
        tags=["images"],
        operation_id="image_avatar_set",
        summary="Make this image your profile picture",
        description="A square crop of it becomes your avatar (`me/avatar/`).",
        request=None,
        responses={200: MessageOutput, **ERRORS},
    )
    def post(self, request, image_id):
        viewer = selectors.Viewer.of(request.user)
        image = selectors.image_for_viewer(viewer=viewer, image_id=image_id)
        services.image_set_as_avatar(user=request.user, image=image)
        return Response({"detail": "This image is now your profile picture."})


class ImageBulkOutput(serializers.Serializer):
    count = serializers.IntegerField(help_text="How many images changed.")


class ImageBulkApi(APIView):
    @extend_schema_serializer(component_name="ImageBulkInput")
    class InputSerializer(serializers.Serializer):
        action = serializers.ChoiceField(choices=list(BULK_ACTIONS))
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
            if attrs["action"] in COLLECTION_ACTIONS and not attrs.get("collection"):
                raise serializers.ValidationError({"collection": "Choose a collection."})
            return attrs

    @extend_schema(
        tags=["images"],
        operation_id="images_bulk_apply",
        summary="Act on several images at once",
        description="Delete them, move, add or take them out of a collection, or (un)mark them "
        "as favourites. `count` is how many changed; images that are not yours are ignored.",
        request=InputSerializer,
        responses={200: ImageBulkOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        count = services.images_bulk_apply(
            user=request.user,
            action=values["action"],
            image_ids=values["image_ids"],
            collection_id=values.get("collection"),
            from_collection_id=values.get("from_collection"),
        )
        return Response({"count": count})


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
        operation_id="images_zip_create",
        summary="Download several images as a zip",
        description=f"At most {settings.GALLERY_ZIP_MAX_IMAGES} images, with a metadata.json "
        "of their parameters.",
        request=InputSerializer,
        responses={(200, "application/zip"): OpenApiTypes.BINARY, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        handle = services.images_zip_build(
            user=request.user, image_ids=data.validated_data["image_ids"]
        )
        return zip_response(handle)
