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
        target_size = serializers.ChoiceField(choices=Dataset.TargetSize.values, default=1024)
        caption_with_trigger_word = serializers.BooleanField(default=True)

    @extend_schema(responses={200: DatasetOutput(many=True), **ERRORS})
    def get(self, request):
        return paginate(self, selectors.dataset_list(user=request.user), DatasetOutput)

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
