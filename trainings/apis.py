"""The trainings API under /api/v1/: datasets and their photos, LoRA models, training runs."""

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.storage import stored_file_response
from config.api import DefaultCursorPagination

from . import selectors, services
from .models import Dataset, DatasetImage, LoraModel, TrainingRun

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `errors` names each field."),
    401: OpenApiResponse(description="Not signed in."),
    404: OpenApiResponse(description="No such object among yours."),
}
CONFLICT = OpenApiResponse(
    description="Not possible in the run's current status: `detail` says why."
)


def _paginate(view: APIView, queryset, serializer_class):
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    data = serializer_class(page, many=True, context={"request": view.request}).data
    return paginator.get_paginated_response(data)


# --- Datasets -------------------------------------------------------------------------------


class DatasetImageOutput(serializers.ModelSerializer):
    thumbnail_url = serializers.SerializerMethodField()

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


class DatasetOutput(serializers.ModelSerializer):
    image_count = serializers.IntegerField(read_only=True)
    pending_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "target_size",
            "caption_with_trigger_word",
            "image_count",
            "pending_count",
            "created_at",
            "updated_at",
        ]


class DatasetListApi(APIView):
    pagination_class = DefaultCursorPagination  # also tells the schema the list is paged

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100)
        target_size = serializers.ChoiceField(choices=Dataset.TargetSize.values, default=1024)
        caption_with_trigger_word = serializers.BooleanField(default=True)

    @extend_schema(responses={200: DatasetOutput(many=True), **ERRORS})
    def get(self, request):
        return _paginate(self, selectors.dataset_list(user=request.user), DatasetOutput)

    @extend_schema(request=InputSerializer, responses={201: DatasetOutput, **ERRORS})
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        dataset = services.dataset_create(user=request.user, **data.validated_data)
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset.id)
        return Response(DatasetOutput(dataset).data, status=status.HTTP_201_CREATED)


class DatasetDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=100, required=False)
        caption_with_trigger_word = serializers.BooleanField(required=False)

    @extend_schema(responses={200: DatasetOutput, **ERRORS})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(DatasetOutput(dataset).data)

    @extend_schema(request=InputSerializer, responses={200: DatasetOutput, **ERRORS})
    def patch(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.dataset_update(dataset=dataset, **data.validated_data)
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(DatasetOutput(dataset).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        services.dataset_delete(dataset=dataset)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadRefusalOutput(serializers.Serializer):
    name = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()


class DatasetImagesApi(APIView):
    parser_classes = [MultiPartParser, FormParser]

    class InputSerializer(serializers.Serializer):
        files = serializers.ListField(
            child=serializers.FileField(allow_empty_file=True),
            required=False,
            help_text="Photos (JPEG, PNG, WebP, HEIC) and optional same-named .txt captions.",
        )
        archive = serializers.FileField(
            required=False, help_text="A zip of photos and optional .txt captions."
        )

        def validate(self, attrs):
            if not attrs.get("files") and not attrs.get("archive"):
                raise serializers.ValidationError({"files": ["Choose photos or a zip to upload."]})
            return attrs

    @extend_schema(responses={200: DatasetImageOutput(many=True), **ERRORS})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        images = selectors.dataset_image_list(dataset=dataset)
        return Response(DatasetImageOutput(images, many=True, context={"request": request}).data)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={
            201: inline_serializer(
                "DatasetUploadResult",
                {
                    "added": DatasetImageOutput(many=True),
                    "refused": UploadRefusalOutput(many=True),
                },
            ),
            **ERRORS,
        },
    )
    def post(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        files = [(upload.name, upload.read()) for upload in data.validated_data.get("files", [])]
        result = services.dataset_images_add(dataset=dataset, files=files)
        added, refused = list(result.added), list(result.refused)
        if data.validated_data.get("archive"):
            from_zip = services.dataset_zip_add(
                dataset=dataset, stream=data.validated_data["archive"]
            )
            added += from_zip.added
            refused += from_zip.refused
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

        def validate(self, attrs):
            if not attrs:
                raise serializers.ValidationError(
                    {"caption": ["Give a caption or face_confirmed."]}
                )
            return attrs

    @extend_schema(responses={200: DatasetImageOutput, **ERRORS})
    def get(self, request, dataset_id, image_id):
        image = selectors.dataset_image_get(
            user=request.user, dataset_id=dataset_id, image_id=image_id
        )
        return Response(DatasetImageOutput(image, context={"request": request}).data)

    @extend_schema(request=InputSerializer, responses={200: DatasetImageOutput, **ERRORS})
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
        return Response(DatasetImageOutput(image, context={"request": request}).data)

    @extend_schema(responses={204: None, **ERRORS})
    def delete(self, request, dataset_id, image_id):
        image = selectors.dataset_image_get(
            user=request.user, dataset_id=dataset_id, image_id=image_id
        )
        services.dataset_image_delete(image=image)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DatasetImageThumbnailApi(APIView):
    @extend_schema(responses={(200, "image/webp"): bytes, **ERRORS})
    def get(self, request, dataset_id, image_id):
        image = selectors.dataset_image_get(
            user=request.user, dataset_id=dataset_id, image_id=image_id
        )
        if not image.thumbnail:
            raise Http404
        return stored_file_response(name=image.thumbnail.name)


class FindingOutput(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    image = serializers.CharField(allow_null=True)
    image_name = serializers.CharField(allow_null=True)
    related = serializers.CharField(allow_null=True)


class DatasetReportOutput(serializers.Serializer):
    total = serializers.IntegerField()
    usable = serializers.IntegerField()
    pending = serializers.IntegerField()
    can_train = serializers.BooleanField()
    shot_counts = serializers.DictField(child=serializers.IntegerField())
    recommended_mix = serializers.DictField(child=serializers.IntegerField())
    blocking = FindingOutput(many=True)
    warnings = FindingOutput(many=True)


class DatasetReportApi(APIView):
    @extend_schema(responses={200: DatasetReportOutput, **ERRORS})
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        report = selectors.dataset_report(dataset=dataset)
        body = report.to_dict()
        body["pending"] = dataset.pending_count
        body["can_train"] = report.can_train and not dataset.pending_count
        return Response(DatasetReportOutput(body).data)


# --- Models ---------------------------------------------------------------------------------


class LoraModelOutput(serializers.ModelSerializer):
    current_version = serializers.CharField(
        source="current_version.replicate_version_id",
        default=None,
        allow_null=True,  # no version until the first training succeeds
        read_only=True,
    )
    is_ready = serializers.BooleanField(read_only=True)

    class Meta:
        model = LoraModel
        fields = [
            "id",
            "name",
            "trigger_word",
            "status",
            "is_ready",
            "current_version",
            "created_at",
            "updated_at",
        ]


class LoraModelListApi(APIView):
    pagination_class = DefaultCursorPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        trigger_word = serializers.CharField(
            max_length=20, required=False, allow_blank=True, help_text="Suggested when left out."
        )

    @extend_schema(responses={200: LoraModelOutput(many=True), **ERRORS})
    def get(self, request):
        return _paginate(self, selectors.lora_model_list(user=request.user), LoraModelOutput)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: LoraModelOutput,
            **ERRORS,
            403: OpenApiResponse(description="Your plan's number of models is reached."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lora_model = services.lora_model_create(user=request.user, **data.validated_data)
        return Response(LoraModelOutput(lora_model).data, status=status.HTTP_201_CREATED)


class TriggerWordApi(APIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "TriggerWordCheck",
                {
                    "word": serializers.CharField(),
                    "problem": serializers.CharField(allow_null=True),
                },
            )
        },
    )
    def get(self, request):
        word = request.query_params.get("word", "").strip()
        if not word:
            return Response({"word": services.trigger_word_suggest(), "problem": None})
        return Response({"word": word, "problem": services.trigger_word_problem(word)})


class LoraModelDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)

    @extend_schema(responses={200: LoraModelOutput, **ERRORS})
    def get(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        return Response(LoraModelOutput(lora_model).data)

    @extend_schema(request=InputSerializer, responses={200: LoraModelOutput, **ERRORS})
    def patch(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lora_model_update(lora_model=lora_model, name=data.validated_data["name"])
        return Response(LoraModelOutput(lora_model).data)

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="Training."), **ERRORS})
    def delete(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        services.lora_model_delete(lora_model=lora_model)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Training runs --------------------------------------------------------------------------


class TrainingRunOutput(serializers.ModelSerializer):
    dataset = serializers.UUIDField(source="dataset_id", read_only=True, allow_null=True)
    model = serializers.UUIDField(source="lora_model_id", read_only=True)
    retry_of = serializers.UUIDField(source="retry_of_id", read_only=True, allow_null=True)
    progress = serializers.FloatField(read_only=True)
    log_tail = serializers.SerializerMethodField()

    class Meta:
        model = TrainingRun
        fields = [
            "id",
            "dataset",
            "model",
            "retry_of",
            "status",
            "parameters",
            "image_count",
            "progress",
            "current_step",
            "total_steps",
            "log_tail",
            "metrics",
            "cost_estimate",
            "cost_actual",
            "error_message",
            "created_at",
            "submitted_at",
            "started_at",
            "completed_at",
        ]

    def get_log_tail(self, run) -> list[str]:
        return run.logs.splitlines()[-20:]


class TrainingRunListApi(APIView):
    pagination_class = DefaultCursorPagination

    parser_classes = [JSONParser, FormParser, MultiPartParser]
    throttle_scope = "training"

    class InputSerializer(serializers.Serializer):
        dataset = serializers.UUIDField()
        model = serializers.UUIDField()
        steps = serializers.IntegerField(required=False, min_value=500, max_value=4000)
        lora_rank = serializers.IntegerField(required=False, min_value=1, max_value=128)
        learning_rate = serializers.FloatField(required=False, min_value=0.00001, max_value=0.01)
        batch_size = serializers.IntegerField(required=False, min_value=1, max_value=8)
        resolution = serializers.CharField(required=False, max_length=20)
        autocaption = serializers.BooleanField(required=False)

    @extend_schema(responses={200: TrainingRunOutput(many=True), **ERRORS})
    def get(self, request):
        return _paginate(self, selectors.training_run_list(user=request.user), TrainingRunOutput)

    @extend_schema(
        request=InputSerializer, responses={201: TrainingRunOutput, **ERRORS, 409: CONFLICT}
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        dataset = selectors.dataset_get(user=request.user, dataset_id=values.pop("dataset"))
        lora_model = selectors.lora_model_get(user=request.user, model_id=values.pop("model"))
        run = services.training_run_start(
            user=request.user,
            dataset=dataset,
            lora_model=lora_model,
            parameters=services.TrainingParameters.from_input(values),
        )
        run.refresh_from_db()
        return Response(TrainingRunOutput(run).data, status=status.HTTP_201_CREATED)

    def get_throttles(self):
        # Starting a run is throttled; reading the list is not.
        return super().get_throttles() if self.request.method == "POST" else []


class TrainingRunDetailApi(APIView):
    @extend_schema(responses={200: TrainingRunOutput, **ERRORS})
    def get(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        return Response(TrainingRunOutput(run).data)


class TrainingRunCancelApi(APIView):
    @extend_schema(request=None, responses={200: TrainingRunOutput, **ERRORS, 409: CONFLICT})
    def post(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        run = services.training_run_cancel(run=run)
        return Response(TrainingRunOutput(run).data)


class TrainingRunRetryApi(APIView):
    @extend_schema(request=None, responses={201: TrainingRunOutput, **ERRORS, 409: CONFLICT})
    def post(self, request, run_id):
        run = selectors.training_run_get(user=request.user, run_id=run_id)
        new_run = services.training_run_retry(user=request.user, run=run)
        return Response(TrainingRunOutput(new_run).data, status=status.HTTP_201_CREATED)
