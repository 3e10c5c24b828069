"""LoRA models: the list, creating one, reading, renaming and deleting one, and checking (or
suggesting) a trigger word."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination

from .. import selectors, services
from ..models import LoraModel
from .serializers import CONFLICT, CREATE_ERRORS, ERRORS, paginate


class TriggerWordCheckOutput(serializers.Serializer):
    word = serializers.CharField(help_text="The word checked, or a suggestion.")
    problem = serializers.CharField(
        allow_null=True, help_text="Why it cannot be used; null when it can."
    )


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

    @extend_schema(
        tags=["models"],
        operation_id="models_list",
        summary="List your LoRA models",
        description="Your models, newest first. A model is `ready` (and `is_ready`) once a "
        "training of it succeeded; `current_version` is then the Replicate version used.",
        responses={200: LoraModelOutput(many=True), **ERRORS},
    )
    def get(self, request):
        return paginate(self, selectors.lora_model_list(user=request.user), LoraModelOutput)

    @extend_schema(
        tags=["models"],
        operation_id="models_create",
        summary="Create a LoRA model",
        description="A model to train: its `trigger_word` (made up, unique; suggested when "
        "left out) names you in prompts. Train it with `trainings/`. 403 `models_limit` when "
        "your plan's number of models is reached.",
        request=InputSerializer,
        responses={201: LoraModelOutput, **ERRORS, 403: CREATE_ERRORS[403]},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lora_model = services.lora_model_create(user=request.user, **data.validated_data)
        return Response(LoraModelOutput(lora_model).data, status=status.HTTP_201_CREATED)


class TriggerWordApi(APIView):
    @extend_schema(
        tags=["models"],
        operation_id="trigger_word_check",
        summary="Check a trigger word, or get a suggestion",
        description="With `word`: whether it can be used (`problem` says why not). Without: a "
        "made-up word no one uses.",
        parameters=[
            OpenApiParameter(
                "word", str, OpenApiParameter.QUERY, required=False, description="To check."
            )
        ],
        responses={200: TriggerWordCheckOutput, **ERRORS},
    )
    def get(self, request):
        word = request.query_params.get("word", "").strip()
        if not word:
            return Response({"word": services.trigger_word_suggest(), "problem": None})
        return Response({"word": word, "problem": services.trigger_word_problem(word)})


class LoraModelDetailApi(APIView):
    class InputSerializer(serializers.Serializer):
        name = serializers.CharField(max_length=80)

    @extend_schema(
        tags=["models"],
        operation_id="model_get",
        summary="Get a LoRA model",
        description="One of your models, with its status and current version.",
        responses={200: LoraModelOutput, **ERRORS},
    )
    def get(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        return Response(LoraModelOutput(lora_model).data)

    @extend_schema(
        tags=["models"],
        operation_id="model_update",
        summary="Rename a LoRA model",
        description="Only the name changes; the trigger word is fixed once trained.",
        request=InputSerializer,
        responses={200: LoraModelOutput, **ERRORS},
    )
    def patch(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.lora_model_update(lora_model=lora_model, name=data.validated_data["name"])
        return Response(LoraModelOutput(lora_model).data)

    @extend_schema(
        tags=["models"],
        operation_id="model_delete",
        summary="Delete a LoRA model",
        description="The model and its versions are erased, on Replicate too. 409 while a "
        "training of it runs: cancel it first.",
        responses={204: None, 409: CONFLICT, **ERRORS},
    )
    def delete(self, request, model_id):
        lora_model = selectors.lora_model_get(user=request.user, model_id=model_id)
        services.lora_model_delete(lora_model=lora_model)
        return Response(status=status.HTTP_204_NO_CONTENT)
