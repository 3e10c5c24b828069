"""OpenAPI schema generation (drf-spectacular) tuned to how this project writes its views."""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


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
