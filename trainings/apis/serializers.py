"""Shared by the trainings API's modules: the error responses of the schema, and one page of a
list serialized with its cursor links."""

from rest_framework.views import APIView

from core.schema import CONFLICT as _CONFLICT
from core.schema import CREATE_ERRORS, DEFAULT_ERRORS, error

ERRORS = {
    400: error(DEFAULT_ERRORS[400]),
    401: error(DEFAULT_ERRORS[401]),
    404: error("No such object among yours."),
}
# A file's own answers: the errors only (no 400: nothing is read from the request).
BINARY_ERRORS = {401: ERRORS[401], 404: ERRORS[404]}
UPLOAD_ERRORS = {
    403: CREATE_ERRORS[403],
    413: error("The upload is larger than a dataset takes (`request_too_large`)."),
    415: error("Not `multipart/form-data`."),
}
CONFLICT = _CONFLICT[409]
START_ERRORS = {**CREATE_ERRORS, 409: error("The dataset or the model is not ready to train.")}


def paginate(view: APIView, queryset, serializer_class):
    """The page of `queryset` the request asks for, through the view's `pagination_class`."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    data = serializer_class(page, many=True, context={"request": view.request}).data
    return paginator.get_paginated_response(data)
