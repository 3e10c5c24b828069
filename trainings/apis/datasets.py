"""Datasets: the list, creating one, reading, renaming and deleting one, and its report (is it
ready to train, and what to improve). Its photos are in dataset_images.py."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination

from .. import selectors, services
from ..models import Dataset
from .serializers import ERRORS, paginate


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
        target_size = serializers.ChoiceField(choices=Dataset.TargetSize.choices, default=1024)
        caption_with_trigger_word = serializers.BooleanField(default=True)

    @extend_schema(
        tags=["datasets"],
        operation_id="datasets_list",
        summary="List your datasets",
        description="Your datasets, newest first, with how many photos each holds and how many "
        "are still being checked.",
        responses={200: DatasetOutput(many=True), **ERRORS},
    )
    def get(self, request):
        return paginate(self, selectors.dataset_list(user=request.user), DatasetOutput)

    @extend_schema(
        tags=["datasets"],
        operation_id="datasets_create",
        summary="Create a dataset",
        description="An empty set of photos of one person; upload photos to it with "
        "`datasets/{dataset_id}/images/`. `target_size` is the side in pixels the photos are "
        "prepared at for training.",
        request=InputSerializer,
        responses={201: DatasetOutput, **ERRORS},
    )
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

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_get",
        summary="Get a dataset",
        description="One of your datasets, with its photo counts.",
        responses={200: DatasetOutput, **ERRORS},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(DatasetOutput(dataset).data)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_update",
        summary="Rename a dataset or change its captioning",
        description="Only the fields given change.",
        request=InputSerializer,
        responses={200: DatasetOutput, **ERRORS},
    )
    def patch(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        data = self.InputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.dataset_update(dataset=dataset, **data.validated_data)
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        return Response(DatasetOutput(dataset).data)

    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_delete",
        summary="Delete a dataset",
        description="The dataset and its photos are erased; models trained on it stay.",
        responses={204: None, **ERRORS},
    )
    def delete(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        services.dataset_delete(dataset=dataset)
        return Response(status=status.HTTP_204_NO_CONTENT)


# What `trainings.quality.report` finds about a set of photos.
FINDING_CODES = (
    "refused",
    "duplicate",
    "face_confirmed",
    "no_face",
    "several_faces",
    "blurry",
    "too_few",
    "too_many",
    "fewer_than_recommended",
    "more_than_recommended",
    "mix",
)


class FindingOutput(serializers.Serializer):
    code = serializers.ChoiceField(choices=FINDING_CODES)
    message = serializers.CharField()
    image = serializers.CharField(allow_null=True, help_text="The photo concerned (its id).")
    image_name = serializers.CharField(allow_null=True)
    related = serializers.CharField(
        allow_null=True, help_text="The other photo (the earlier copy of a duplicate)."
    )


class ShotCountsOutput(serializers.Serializer):
    close_up = serializers.IntegerField(min_value=0)
    half_body = serializers.IntegerField(min_value=0)
    full_body = serializers.IntegerField(min_value=0)


class DatasetReportOutput(serializers.Serializer):
    total = serializers.IntegerField()
    usable = serializers.IntegerField()
    pending = serializers.IntegerField()
    can_train = serializers.BooleanField()
    shot_counts = ShotCountsOutput(help_text="Usable photos by kind of shot.")
    recommended_mix = ShotCountsOutput(help_text="The mix of shots we recommend for this size.")
    blocking = FindingOutput(many=True)
    warnings = FindingOutput(many=True)


class DatasetReportApi(APIView):
    @extend_schema(
        tags=["datasets"],
        operation_id="dataset_report_get",
        summary="Is the dataset ready to train?",
        description="The quality report: how many photos are usable, the mix of shots against "
        "the recommended one, what blocks training (`blocking`) and what would improve it "
        "(`warnings`). `can_train` is false while photos are still being checked.",
        responses={200: DatasetReportOutput, **ERRORS},
    )
    def get(self, request, dataset_id):
        dataset = selectors.dataset_get(user=request.user, dataset_id=dataset_id)
        report = selectors.dataset_report(dataset=dataset)
        body = report.to_dict()
        body["pending"] = dataset.pending_count
        body["can_train"] = report.can_train and not dataset.pending_count
        return Response(DatasetReportOutput(body).data)
