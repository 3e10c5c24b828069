"""The catalogue every signed-in person sees: style presets and style LoRAs."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from core.schema import ERRORS

from .. import selectors
from ..models import StyleLora, StylePreset
from ..services.parameters import ASPECT_RATIOS


class StylePresetOutput(serializers.ModelSerializer):
    examples = serializers.SerializerMethodField()
    example_url = serializers.SerializerMethodField()
    aspect_ratio = serializers.ChoiceField(
        choices=ASPECT_RATIOS,
        allow_blank=True,
        read_only=True,
        help_text="The aspect ratio it suggests (empty: the person's choice).",
    )
    parameters = serializers.DictField(
        read_only=True,
        help_text="Generation parameters the pack applies to what you leave out (yours win).",
    )
    style = serializers.UUIDField(
        source="style_lora_id",
        allow_null=True,
        read_only=True,
        help_text="The style LoRA it adds unless you choose another (see /styles/).",
    )
    in_starter_pack = serializers.BooleanField(
        read_only=True, help_text="Made once with each newly trained model."
    )

    class Meta:
        model = StylePreset
        fields = [
            "id",
            "name",
            "description",
            "prompt_template",
            "aspect_ratio",
            "parameters",
            "style",
            "in_starter_pack",
            "example_url",
            "examples",
        ]

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_examples(self, preset) -> list[str]:
        request = self.context["request"]
        return [
            request.build_absolute_uri(
                reverse("gallery:catalogue-image", kwargs={"kind": "example", "pk": example.pk})
            )
            for example in preset.examples.all()
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_example_url(self, preset) -> str | None:
        """Your own best picture in this style when you have one, else the catalogue's."""
        path = preset.example_path
        return self.context["request"].build_absolute_uri(path) if path else None


class StyleLoraOutput(serializers.ModelSerializer):
    example_url = serializers.SerializerMethodField()

    class Meta:
        model = StyleLora
        fields = [
            "id",
            "name",
            "description",
            "extra_lora",
            "default_scale",
            "trigger_phrase",
            "example_url",
        ]

    @extend_schema_field(OpenApiTypes.URI)
    def get_example_url(self, style) -> str | None:
        if not style.example_image:
            return None
        path = reverse("gallery:catalogue-image", kwargs={"kind": "style", "pk": style.pk})
        return self.context["request"].build_absolute_uri(path)


class CataloguePagination(DefaultCursorPagination):
    ordering = ("position", "name", "id")  # the order the administrators chose


def _page(view, request, queryset, serializer_class):
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


class StylePresetListApi(APIView):
    pagination_class = CataloguePagination

    @extend_schema(
        tags=["catalogue"],
        operation_id="presets_list",
        summary="List the style presets",
        description="Style packs, in the catalogue's order: a prompt template (`{trigger}` is "
        "your model's trigger word) and the parameters it suits. Pass one's id as "
        "`style_preset` to a generation: an empty prompt takes the template, and the pack's "
        "parameters and style fill in whatever you leave out. `example_url` is your own best "
        "picture in that style when you have one, else the catalogue's example.",
        responses={200: StylePresetOutput(many=True), **ERRORS},
    )
    def get(self, request):
        presets = selectors.style_preset_list_for(user=request.user)
        return _page(self, request, presets, StylePresetOutput)


class StyleLoraListApi(APIView):
    pagination_class = CataloguePagination

    @extend_schema(
        tags=["catalogue"],
        operation_id="styles_list",
        summary="List the style LoRAs",
        description="Styles usable as the second LoRA of a generation (`style`), in the "
        "catalogue's order, with their default scale.",
        responses={200: StyleLoraOutput(many=True), **ERRORS},
    )
    def get(self, request):
        return _page(self, request, selectors.style_lora_list(), StyleLoraOutput)
