"""Data exports: asking for a zip of everything you own, following it, and downloading it."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.files import private_file_response

from .. import selectors
from ..exports import data_export_request
from ..models import DataExport
from .serializers import ERRORS


class DataExportOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "size_bytes",
            "error",
            "created_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]

    def get_download_url(self, export) -> str | None:
        if not export.is_downloadable:
            return None
        url = reverse("api:me-export-download", kwargs={"export_id": export.id})
        return self.context["request"].build_absolute_uri(url)


class DataExportListApi(APIView):
    @extend_schema(
        tags=["me"],
        summary="Your data exports",
        responses={200: DataExportOutput(many=True), **ERRORS},
    )
    def get(self, request):
        exports = selectors.data_export_list(user=request.user)
        return Response(DataExportOutput(exports, many=True, context={"request": request}).data)

    @extend_schema(
        tags=["me"],
        summary="Ask for an export of everything you own",
        description=(
            "A zip of your images with JSON of their metadata, built in the background. Poll "
            "`me/export/{id}/` until `status` is `ready`; the download link expires."
        ),
        request=None,
        responses={202: DataExportOutput, **ERRORS},
    )
    def post(self, request):
        export = data_export_request(user=request.user)
        return Response(
            DataExportOutput(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class DataExportDetailApi(APIView):
    @extend_schema(
        tags=["me"],
        summary="One data export",
        responses={
            200: DataExportOutput,
            401: ERRORS[401],
            404: OpenApiResponse(description="No such export among yours."),
        },
    )
    def get(self, request, export_id):
        export = selectors.data_export_get(user=request.user, export_id=export_id)
        return Response(DataExportOutput(export, context={"request": request}).data)


class DataExportDownloadApi(APIView):
    @extend_schema(
        tags=["me"],
        summary="Download a data export (zip)",
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            401: ERRORS[401],
            404: OpenApiResponse(description="No such export among yours."),
            409: OpenApiResponse(description="The export is not ready yet: poll it first."),
            410: OpenApiResponse(description="The export expired: ask for a new one."),
        },
    )
    def get(self, request, export_id):
        export = selectors.data_export_get_downloadable(user=request.user, export_id=export_id)
        return private_file_response(
            name=export.file.name,
            media_type="application/zip",
            filename=export.download_filename,
            attachment=True,
        )
