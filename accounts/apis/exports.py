"""Data exports: asking for a zip of everything you own, following it, and downloading it."""

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from core.files import private_file_response
from core.schema import error

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
    pagination_class = DefaultCursorPagination

    @extend_schema(
        tags=["me"],
        operation_id="me_exports_list",
        summary="Your data exports",
        description="Newest first, with their status and, while it lasts, their download link.",
        responses={200: DataExportOutput(many=True), **ERRORS},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.data_export_list(user=request.user), request, view=self
        )
        data = DataExportOutput(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)

    @extend_schema(
        tags=["me"],
        operation_id="me_exports_create",
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
        operation_id="me_export_get",
        summary="One data export",
        description="Poll it until `status` is `ready` (then `download_url` is set) or `failed`.",
        responses={
            200: DataExportOutput,
            401: ERRORS[401],
            404: error("No such export among yours."),
        },
    )
    def get(self, request, export_id):
        export = selectors.data_export_get(user=request.user, export_id=export_id)
        return Response(DataExportOutput(export, context={"request": request}).data)


class DataExportDownloadApi(APIView):
    @extend_schema(
        tags=["me"],
        operation_id="me_export_download",
        summary="Download a data export (zip)",
        description="The zip of a `ready` export, until `expires_at`.",
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            401: ERRORS[401],
            404: error("No such export among yours."),
            409: error("The export is not ready yet (`not_ready`): poll it first."),
            410: error("The export expired (`expired`): ask for a new one."),
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
