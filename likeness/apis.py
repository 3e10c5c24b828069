"""API of the consent selfie: the owner uploads it before a model's first training; moderators
list the trainings waiting for a check and decide on them.

The moderators' operations answer 404 to anyone who may not moderate and 401 to an anonymous
caller, like the review queue's.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from core.exceptions import NotFound
from core.schema import CONFLICT, CREATE_ERRORS, ERRORS, error
from trainings import selectors as training_selectors

from . import selectors, services
from .models import IdentityCheck

MODERATORS_ONLY = {401: ERRORS[401], 404: error("Not a moderator, or no such identity check.")}


class IdentityCheckOutput(serializers.ModelSerializer):
    model = serializers.UUIDField(source="lora_model_id")
    training_run = serializers.UUIDField(source="training_run_id", allow_null=True)
    face_found = serializers.SerializerMethodField()
    decided_by = serializers.SerializerMethodField()

    class Meta:
        model = IdentityCheck
        fields = [
            "id",
            "model",
            "training_run",
            "outcome",
            "face_found",
            "distance",
            "reason",
            "decided_by",
            "decided_at",
            "created_at",
        ]

    def get_face_found(self, check) -> bool | None:
        """Whether a face was found in the selfie; null once the selfie was deleted."""
        if check.outcome != IdentityCheck.Outcome.SELFIE_TAKEN and not check.selfie:
            return None
        return check.selfie_has_face

    @extend_schema_field(
        serializers.ChoiceField(choices=["automatic", "moderator"], allow_null=True)
    )
    def get_decided_by(self, check) -> str | None:
        """`automatic` (the selfie matched, at `distance`), `moderator` (a person decided), or
        null while undecided. Which moderator is not said."""
        return check.decided_by_kind


class IdentityCheckApi(APIView):
    @extend_schema(
        tags=["models"],
        operation_id="model_identity_check_get",
        summary="The identity check of a model",
        description=(
            "The latest consent-selfie check of one of your models: taken, waiting for a "
            "moderator (and why), or decided (`decided_by`: `automatic` or `moderator`, and "
            "`decided_at`). 404 when the model has none."
        ),
        responses={200: IdentityCheckOutput, 401: ERRORS[401], 404: ERRORS[404]},
    )
    def get(self, request, model_id):
        lora_model = training_selectors.lora_model_get(user=request.user, model_id=model_id)
        check = selectors.identity_check_latest(user=request.user, lora_model=lora_model)
        if check is None:
            raise NotFound("This model has no identity check yet.")
        return Response(IdentityCheckOutput(check).data)


class SelfieApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema_serializer(component_name="SelfieInput")
    class InputSerializer(serializers.Serializer):
        selfie = serializers.FileField(
            help_text="A photo of your face taken now (JPEG, PNG, WebP or HEIC)."
        )

    @extend_schema(
        tags=["models"],
        operation_id="model_selfie_upload",
        summary="Upload the consent selfie of a model (multipart)",
        description=(
            "Before a model's first training, a selfie taken now: the training compares it "
            "with the main person of the dataset's photos. If they match, the training starts; "
            "if not (or the dataset has no face consent), the training waits for a moderator "
            "and its page says why; so does a copy of a dataset photo, or a picture its "
            "camera dated more than a day ago. The selfie is deleted as soon as that is "
            "decided, or after `SELFIE_KEEP_HOURS` if no training uses it. A selfie "
            "without a face is refused (`selfie_no_face`) a few times, then kept for a "
            "moderator. 409 when the model needs no selfie (one check passed) or one waits."
        ),
        request={"multipart/form-data": InputSerializer},
        responses={
            201: IdentityCheckOutput,
            **CREATE_ERRORS,
            409: CONFLICT[409],
            413: error("The selfie is too large (`request_too_large`)."),
            415: error("Not `multipart/form-data`."),
        },
    )
    def post(self, request, model_id):
        lora_model = training_selectors.lora_model_get(user=request.user, model_id=model_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        check = services.selfie_take(
            user=request.user, lora_model=lora_model, upload=data.validated_data["selfie"]
        )
        return Response(IdentityCheckOutput(check).data, status=status.HTTP_201_CREATED)


class IdentityCheckQueuePagination(DefaultCursorPagination):
    ordering = ("created_at", "id")  # oldest first: deciding drains it


class IdentityCheckQueueApi(APIView):
    pagination_class = IdentityCheckQueuePagination

    @extend_schema(
        tags=["moderation"],
        operation_id="moderation_identity_checks_list",
        summary="Trainings waiting for an identity check (moderators)",
        description="Oldest first: each held training's check, with why it was not matched "
        "automatically. The selfie and the photos are on the moderation pages. Cursor "
        "pagination (`cursor`, `page_size`).",
        responses={200: IdentityCheckOutput(many=True), **MODERATORS_ONLY},
    )
    def get(self, request):
        queue = selectors.identity_check_queue(moderator=request.user)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queue, request, view=self)
        return paginator.get_paginated_response(IdentityCheckOutput(page, many=True).data)


class IdentityCheckDecisionApi(APIView):
    @extend_schema_serializer(component_name="IdentityDecisionInput")
    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=["approved", "rejected"])
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=300,
            help_text="For a rejection: what the owner reads on the training's page.",
        )

    @extend_schema(
        tags=["moderation"],
        operation_id="moderation_identity_check_decide",
        summary="Approve or reject a held training (moderators)",
        description="Approved: the training is sent to Replicate. Rejected: it fails with the "
        "reason and its credits are refunded. Either way the selfie is deleted. 409 once "
        "decided.",
        request=InputSerializer,
        responses={
            200: IdentityCheckOutput,
            400: ERRORS[400],
            **MODERATORS_ONLY,
            409: CONFLICT[409],
            413: error("The request body is too large."),
            415: error("Not JSON."),
        },
    )
    def post(self, request, check_id):
        selectors.identity_check_for_review(moderator=request.user, check_id=check_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        if data.validated_data["decision"] == "approved":
            check = services.identity_check_approve(moderator=request.user, check_id=check_id)
        else:
            check = services.identity_check_reject(
                moderator=request.user,
                check_id=check_id,
                reason=data.validated_data.get("reason", ""),
            )
        check.refresh_from_db()
        return Response(IdentityCheckOutput(check).data)
