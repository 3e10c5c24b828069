"""LoRA models: the list, creating one, reading, renaming and deleting one, and checking (or
suggesting) a trigger word."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination

from .. import selectors, services
from ..models import LoraModel
from .serializers import ERRORS, paginate


class LoraModelOutput(serializers.ModelSerializer):
    current_version = serializers.CharField(
        source="current_version.replicate_version_id",
        default=None,
        allow_null=True,  # no version until the first training succeeds
        read_only=True,
    )
    is_ready = serializers.BooleanField(read_only=True)

    class Meta:
        model = LoraModel
        fields = [
            "id",
            "name",
            "trigger_word",
            "status",
            "is_ready",
            "current_version",
            "created_at",
            "updated_at",
        ]


class LoraModelListApi(APIView):
    pagination_class = DefaultCursorPagination

    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)
        trigger_word = serializers.CharField(
            max_length=20, required=False, allow_blank=True, help_text="Suggested when left out."
        )

    @extend_schema(responses={200: LoraModelOutput(many=True), **ERRORS})
    def get(self, request):
        return paginate(self, selectors.lora_model_list(user=request.user), LoraModelOutput)

    @extend_schema(
        request=InputSerializer,
        responses={
            201: LoraModelOutput,
            **ERRORS,
            403: OpenApiResponse(description="Your plan's number of models is reached."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lora_model = services.lora_model_create(user=request.user, **data.validated_data)
        return Response(LoraModelOutput(lora_model).data, status=status.HTTP_201_CREATED)


class TriggerWordApi(APIView):
    @extend_schema(
        responses={
            200: inline_serializer(
                "TriggerWordCheck",
                {
                    "word": serializers.CharField(),
                    "problem": serializers.CharField(allow_null=True),
                },
            )
        },
    )
    def get(self, request):
        word = request.query_params.get("word", "").strip()
        if not word:
            return Response({"word": services.trigger_word_suggest(), "problem": None})
        return Response({"word": word, "problem": services.trigger_word_problem(word)})


class LoraModelDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)

    @extend_schema(responses={200: LoraModelOutput, **ERRORS})
    def get(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        return Response(LoraModelOutput(lora_model).data)

    @extend_schema(request=InputSerializer, responses={200: LoraModelOutput, **ERRORS})
    def patch(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lora_model_update(lora_model=lora_model, name=data.validated_data["name"])
        return Response(LoraModelOutput(lora_model).data)

    @extend_schema(responses={204: None, 409: OpenApiResponse(description="Training."), **ERRORS})
    def delete(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        services.lora_model_delete(lora_model=lora_model)
        return Response(status=status.HTTP_204_NO_CONTENT)
