"""The catalogue every signed-in person sees: style presets and style LoRAs."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.schema import ERRORS

from .. import selectors
from ..models import StyleLora, StylePreset


class StylePresetOutput(serializers.ModelSerializer):
    examples = serializers.SerializerMethodField()

    class Meta:
        model = StylePreset
        fields = ["id", "name", "description", "prompt_template", "aspect_ratio", "examples"]

    @extend_schema_field(serializers.ListField(child=serializers.URLField()))
    def get_examples(self, preset) -> list[str]:
        request = self.context["request"]
        return [
            request.build_absolute_uri(
                reverse("gallery:catalogue-image", kwargs={"kind": "example", "pk": example.pk})
            )
            for example in preset.examples.all()
        ]


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


class StylePresetListApi(APIView):
    @extend_schema(
        tags=["catalogue"],
        summary="Style presets: prompt templates ({trigger} is your model's trigger word)",
        responses={200: StylePresetOutput(many=True), **ERRORS},
    )
    def get(self, request):
        presets = selectors.style_preset_list()
        return Response(StylePresetOutput(presets, many=True, context={"request": request}).data)


class StyleLoraListApi(APIView):
    @extend_schema(
        tags=["catalogue"],
        summary="Style LoRAs usable as the second LoRA (`style`), with their default scale",
        responses={200: StyleLoraOutput(many=True), **ERRORS},
    )
    def get(self, request):
        styles = selectors.style_lora_list()
        return Response(StyleLoraOutput(styles, many=True, context={"request": request}).data)
