"""Shared by the trainings API's modules: the error responses of the schema, and one page of a
list serialized with its cursor links."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework.views import APIView

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `errors` names each field."),
    401: OpenApiResponse(description="Not signed in."),
    404: OpenApiResponse(description="No such object among yours."),
}
CONFLICT = OpenApiResponse(
    description="Not possible in the run's current status: `detail` says why."
)


def paginate(view: APIView, queryset, serializer_class):
    """The page of `queryset` the request asks for, through the view's `pagination_class`."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    data = serializer_class(page, many=True, context={"request": view.request}).data
    return paginator.get_paginated_response(data)
