"""Generations: create (with batches, pictures and styles), list, follow, cancel."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination, RangedIntegerField
from core.schema import CONFLICT, CREATE_ERRORS, ERRORS

from .. import selectors, services
from ..models import Generation
from ..services.parameters import FLUX_MODELS, MAX_PROMPT
from .serializers import (
    GenerationOutput,
    GenerationThrottleMixin,
    ParametersInput,
    PictureField,
    field_lookup,
    generations_data,
    pictures_apply,
)


class GenerationCreateOutput(serializers.Serializer):
    batch_id = serializers.UUIDField(allow_null=True)
    generations = GenerationOutput(many=True)


class GenerationListApi(GenerationThrottleMixin, APIView):
    pagination_class = DefaultCursorPagination  # also tells the schema the list is paged
    # The schema names JSON (pictures as data: URIs or URLs); multipart with files is still
    # taken, for the clients that used it.
    parser_classes = [JSONParser, MultiPartParser]

    @extend_schema_serializer(component_name="GenerationCreateInput")
    class InputSerializer(ParametersInput):
        lora_model = serializers.UUIDField(
            required=False, allow_null=True, help_text="One of your ready models; empty: default"
        )
        prompt = serializers.CharField(
            allow_blank=True,
            max_length=MAX_PROMPT,
            trim_whitespace=True,
            help_text="What to picture. Empty with a `style_preset`: the preset's prompt.",
        )
        model = None  # `model` is the LoRA model everywhere in this API: see `base_model`
        base_model = serializers.ChoiceField(
            choices=FLUX_MODELS,
            required=False,
            allow_null=True,
            help_text="The FLUX model your LoRA runs on (`dev` by default; ignored by the "
            "platform's default model).",
        )
        image = PictureField(required=False, allow_null=True)
        mask = PictureField(required=False, allow_null=True)
        style_preset = serializers.UUIDField(required=False, allow_null=True)
        style = serializers.UUIDField(
            required=False, allow_null=True, help_text="A style LoRA of the catalogue (styles/)."
        )
        extra_lora_model = serializers.UUIDField(
            required=False, allow_null=True, help_text="Another of your models as second LoRA."
        )
        batch = RangedIntegerField(
            schema_range=(1, settings.GENERATION_MAX_BATCH),
            required=False,
            default=1,
            help_text="How many requests to send (each 1–4 outputs).",
        )

        def to_internal_value(self, data):
            # The FLUX model's old name, `model`, is still read.
            if "model" in data and "base_model" not in data:
                data = data.copy()
                data["base_model"] = data["model"]
            return super().to_internal_value(data)

    class FilterSerializer(serializers.Serializer):
        status = serializers.ChoiceField(choices=Generation.Status.choices, required=False)

    @extend_schema(
        tags=["generations"],
        operation_id="generations_list",
        summary="List your generations",
        description="Newest first, each with its status and the images you may see. Filter "
        "by `status`.",
        parameters=[FilterSerializer],
        responses={200: GenerationOutput(many=True), **ERRORS},
    )
    def get(self, request):
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.generation_list(user=request.user, **filters.validated_data),
            request,
            view=self,
        )
        return paginator.get_paginated_response(generations_data(request, page))

    @extend_schema(
        tags=["generations"],
        operation_id="generations_create",
        summary="Generate pictures",
        description=(
            "Reserves the credits (per output: 4 on `dev`, 1 on `schnell` by default), then "
            "sends the request to Replicate in the background. Poll the generation's `url` "
            "until `status` is `succeeded` (its `images` are then stored) or `failed` (the "
            "credits are refunded). `batch` sends n requests at once, each with its own seed. "
            "`image` (image to image) and `mask` (inpainting) are `data:` URIs or URLs."
        ),
        request={"application/json": InputSerializer},
        responses={201: GenerationCreateOutput, **CREATE_ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = request.user
        lora_model = None
        if values.get("lora_model"):
            lora_model = selectors.lora_model_for_generation(
                user=user, model_ref=str(values["lora_model"])
            )
        generation_request = services.GenerationRequest(
            prompt=values.get("prompt", ""),
            parameters={
                **{k: values.get(k) for k in ParametersInput.PARAMETERS},
                "model": values.get("base_model"),
            },
            batch=values.get("batch", 1),
            source=Generation.Source.API,
        )
        pictures_apply(values, generation_request)
        if values.get("style_preset"):
            generation_request.style_preset = field_lookup(
                "style_preset",
                lambda: selectors.style_preset_get(preset_id=values["style_preset"]),
            )
        if values.get("style"):
            generation_request.style_lora = field_lookup(
                "style", lambda: selectors.style_lora_get(style_id=values["style"])
            )
        if values.get("extra_lora_model"):
            generation_request.extra_lora_model = field_lookup(
                "extra_lora_model",
                lambda: selectors.lora_model_for_generation(
                    user=user, model_ref=str(values["extra_lora_model"])
                ),
            )
        generations = services.generation_create(
            user=user, lora_model=lora_model, asked=generation_request
        )
        return Response(
            {
                "batch_id": generations[0].batch_id,
                "generations": generations_data(request, generations),
            },
            status=status.HTTP_201_CREATED,
        )


class GenerationDetailApi(APIView):
    @extend_schema(
        tags=["generations"],
        operation_id="generation_get",
        summary="Get a generation",
        description="Its status and, once it succeeded, its stored images (those held for "
        "review are listed without their URLs).",
        responses={200: GenerationOutput, **ERRORS},
    )
    def get(self, request, generation_id):
        generation = selectors.generation_get(user=request.user, generation_id=generation_id)
        return Response(generations_data(request, [generation])[0])


class GenerationCancelApi(APIView):
    @extend_schema(
        tags=["generations"],
        operation_id="generation_cancel",
        summary="Cancel a generation",
        description="One that has not ended: it stops on Replicate and its credits are "
        "refunded. 409 once it ended.",
        request=None,
        responses={200: GenerationOutput, **CONFLICT, **ERRORS},
    )
    def post(self, request, generation_id):
        generation = selectors.generation_get(user=request.user, generation_id=generation_id)
        generation = services.generation_cancel(generation=generation)
        return Response(generations_data(request, [generation])[0])
