"""A dataset's photos: the list, uploading photos or a zip (with optional captions), reading
one, its caption and face confirmation, deleting it, and its thumbnail."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from core.exceptions import NotFound
from core.files import private_file_response
from core.middleware import request_size_allowed
from core.schema import ERROR_CODES

from .. import selectors, services
from ..imaging import MAX_UPLOAD_BYTES
from ..models import DatasetImage
from ..services.datasets import MAX_IMAGES, dataset_uploads_add
from ..services.subject_face import dataset_image_subject_confirm
from .serializers import BINARY_ERRORS, ERRORS, UPLOAD_ERRORS, paginate

PHOTO_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")  # trainings.imaging: what a photo was read as
UPLOAD_LIMITS = (
    f"Photos are JPEG, PNG, WebP or HEIC, at most {MAX_UPLOAD_BYTES >> 20} MB each; a dataset "
    f"holds at most {MAX_IMAGES}. A zip holds photos and optional same-named `.txt` captions."
)


class DatasetImageOutput(serializers.ModelSerializer):
    thumbnail_url = serializers.SerializerMethodField()
    original_format = serializers.ChoiceField(
        choices=PHOTO_FORMATS, allow_blank=True, help_text="Empty until the photo is checked."
    )

    class Meta:
        model = DatasetImage
        fields = [
            "id",
            "original_name",
            "status",
            "rejection_code",
            "rejection_message",
            "caption",
            "width",
            "height",
            "original_width",
            "original_height",
            "original_format",
            "face_count",
            "face_confirmed",
            "subject_face",
            "blur_score",
            "shot_type",
            "thumbnail_url",
            "created_at",
        ]

    def get_thumbnail_url(self, image) -> str | None:
        if not image.thumbnail:
            return None
        path = reverse(
            "api:dataset-image-thumbnail",
            kwargs={"dataset_id": image.dataset_id, "image_id": image.id},
        )
        return self.context["request"].build_absolute_uri(path)


class UploadRefusalOutput(serializers.Serializer):
    name = serializers.CharField(help_text="The file's name as uploaded.")
    code = serializers.CharField(help_text="Why it was refused: `unsupported_format`, ….")
    message = serializers.CharField()


class DatasetUploadResultOutput(serializers.Serializer):
    added = DatasetImageOutput(many=True)
    refused = UploadRefusalOutput(many=True)


class DatasetUploadErrorOutput(serializers.Serializer):
    """The error body, plus each refused file (nothing was added)."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=ERROR_CODES)
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))
    refused = UploadRefusalOutput(many=True)


class DatasetImagePagination(DefaultCursorPagination):
    ordering = ("created_at", "id")  # the order they were uploaded in


@request_size_allowed("DATASET_UPLOAD_MAX_REQUEST_BYTES")
class DatasetImagesApi(APIView):
    parser_classes = [MultiPartParser]
    pagination_class = DatasetImagePagination

    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(
            child=serializers.FileField(allow_empty_file=True),
            required=False,
            max_length=2 * MAX_IMAGES,
            help_text="Photos (JPEG, PNG, WebP, HEIC) and optional same-named .txt captions.",
        )
        archive = serializers.FileField(
            required=False, help_text="A zip of photos and optional .txt captions."
        )

        def validate(self, attrs):
            if not attrs.get("files") and not attrs.get("archive"):
                raise serializers.ValidationError({"files": ["Choose photos or a zip to upload."]})
            return attrs

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_images_list",
        summary="List a dataset's photos",
        description="In the order they were uploaded, each with its checks (status, faces, "
        "sharpness, kind of shot) and its caption.",
        responses={200: DatasetImageOutput(many=True), **ERRORS},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return paginate(self, selectors.dataset_image_list(dataset=dataset), DatasetImageOutput)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_images_upload",
        summary="Upload photos (multipart)",
        description=(
            "`multipart/form-data` with `files` (one part per file, the same name repeated) "
            "and/or `archive` (a zip). "
            + UPLOAD_LIMITS
            + " Each photo is checked in the background (`status` is `pending` until then). "
            "Files that cannot be used are listed in `refused` with a reason; when none is "
            "added, the answer is a 400 listing them."
        ),
        request={"multipart/form-data": InputSerializer},
        responses={
            **ERRORS,
            **UPLOAD_ERRORS,
            201: DatasetUploadResultOutput,
            400: OpenApiResponse(
                DatasetUploadErrorOutput, description="No file was added: each one is refused."
            ),
        },
    )
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        # The uploads are passed as they are (a large one is a temporary file): not read here.
        result = dataset_uploads_add(
            dataset=dataset,
            files=[(upload.name, upload) for upload in data.validated_data.get("files", [])],
            archive=data.validated_data.get("archive"),
        )
        added, refused = list(result.added), list(result.refused)
        for image in added:
            image.refresh_from_db()
        refused_rows = [refusal.as_dict() for refusal in refused]
        if not added:
            # Nothing was added: the usual error shape, each refused file under `files`.
            messages = [f"{row['name']}: {row['message']}" for row in refused_rows]
            body = {
                "detail": messages[0] if len(messages) == 1 else "None of the files was added.",
                "code": "invalid",
                "errors": {"files": messages},
                "refused": refused_rows,
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        body = {
            "added": DatasetImageOutput(added, many=True, context={"request": request}).data,
            "refused": refused_rows,
        }
        return Response(body, status=status.HTTP_201_CREATED)


class DatasetImageDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        caption = serializers.CharField(max_length=1000, allow_blank=True, required=False)
        face_confirmed = serializers.BooleanField(
            required=False,
            help_text="You are in this photo although no face was detected: use it anyway.",
        )
        subject_face = serializers.IntegerField(
            required=False,
            min_value=0,
            max_value=99,
            help_text="On a photo with several faces, which one is you (the report's "
            "`subject_face.index`).",
        )

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError(
                    {"caption": ["Give a caption, face_confirmed or subject_face."]}
                )
            return attrs

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_image_get",
        summary="Get one photo of a dataset",
        description="The photo's checks and caption.",
        responses={200: DatasetImageOutput, **ERRORS},
    )
    def get(self, request, dataset_id, image_id):
        image = selectors.dataset_image_get(
            user=request.user, dataset_id=dataset_id, image_id=image_id
        )
        return Response(DatasetImageOutput(image, context={"request": request}).data)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_image_update",
        summary="Change a photo's caption, or confirm it is you",
        description="`face_confirmed` uses a photo in which no face was detected anyway; "
        "`subject_face` says which of several faces is you.",
        request=InputSerializer,
        responses={200: DatasetImageOutput, **ERRORS},
    )
    def patch(self, request, dataset_id, image_id):
        image = selectors.dataset_image_get(
            user=request.user, dataset_id=dataset_id, image_id=image_id
        )
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if "caption" in data.validated_data:
            services.dataset_image_caption_update(
                image=image, caption=data.validated_data["caption"]
            )
        if "face_confirmed" in data.validated_data:
            services.dataset_image_face_confirm(
                image=image, confirmed=data.validated_data["face_confirmed"]
            )
        if "subject_face" in data.validated_data:
            dataset_image_subject_confirm(
                image=image, face_index=data.validated_data["subject_face"]
            )
        return Response(DatasetImageOutput(image, context={"request": request}).data)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_image_delete",
        summary="Delete a photo from a dataset",
        description="The photo and its thumbnail are erased.",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, dataset_id, image_id):
        image = selectors.dataset_image_get(
            user=request.user, dataset_id=dataset_id, image_id=image_id
        )
        services.dataset_image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetImageThumbnailApi(APIView):
    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_image_thumbnail_get",
        summary="A photo's thumbnail (WebP)",
        description="The small WebP the photo's `thumbnail_url` points at; 404 until made.",
        responses={(200, "image/webp"): OpenApiTypes.BINARY, **BINARY_ERRORS},
    )
    def get(self, request, dataset_id, image_id):
        image = selectors.dataset_image_get(
            user=request.user, dataset_id=dataset_id, image_id=image_id
        )
        if not image.thumbnail:
            raise NotFound("This photo has no thumbnail yet.")
        return private_file_response(name=image.thumbnail.name, media_type="image/webp")
