"""OpenAPI schema generation (drf-spectacular) tuned to how this project writes its views."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse

# The error responses most operations share; each view adds the ones that are its own.
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
CONFLICT = {409: OpenApiResponse(description="The object is not in a state that allows this.")}


class AutoSchema(SpectacularAutoSchema):
    """Names a view's nested `InputSerializer` after the view (`DatasetListApi` →
    `DatasetListInput`), so the many nested serializers of one name never collide."""

    def get_serializer_name(self, serializer, direction):
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        owner, _, inner = qualname.rpartition(".")
        if owner and inner in ("InputSerializer", "OutputSerializer"):
            return owner.removesuffix("Api").removesuffix("View") + inner.removesuffix("Serializer")
        return name
