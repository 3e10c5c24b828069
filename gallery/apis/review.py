"""Review: people report a picture shown to them; moderators work the queue, decide, read the
log of stopped prompts; a suspended user appeals.

Every moderator operation answers 404 to anyone who may not moderate (the routes' existence is
not told) and 401 to an anonymous caller. Decisions go through `services.image_decide` (the
one place a state changes, with its audit record and strike).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import DefaultCursorPagination
from core.schema import CONFLICT, ERRORS, error
from moderation.models import Category, PromptBlock
from moderation.selectors import PromptBlockFilters, prompt_block_list
from moderation.strikes import suspension_appeal

from .. import selectors, services
from ..media import file_response, media_url
from ..models import GeneratedImage, ImageDecision, ImageReport, ImageScan

MODERATORS_ONLY = {
    401: ERRORS[401],
    404: error("Not a moderator."),
}
MODERATED_IMAGE = {
    **MODERATORS_ONLY,
    404: error("Not a moderator, or no such image."),
}


def _moderator(request):
    """The caller if they may moderate; NotFound otherwise (checked by the selector)."""
    return selectors.Viewer.moderator(request.user).user


# --- Reports --------------------------------------------------------------------------------


class ReportOutput(serializers.ModelSerializer):
    image = serializers.UUIDField(source="image_id")

    class Meta:
        model = ImageReport
        fields = ["id", "image", "status", "created_at"]


def _reported_image(*, user, image_id, share_token: str) -> tuple[GeneratedImage, object]:
    """The image the caller was shown, and the share link that showed it (if any).

    With a token: an image the link shows (else 404). Without: only the caller's own images are
    theirs to see, and the service refuses to report those (400); anything else is a 404.
    """
    if share_token:
        link = services.share_link_resolve(token=share_token)
        viewer = selectors.Viewer.holding(link)
        return selectors.image_for_viewer(viewer=viewer, image_id=image_id), link
    return selectors.image_get(user=user, image_id=image_id), None


class ReportCreateApi(APIView):
    @extend_schema_serializer(component_name="ReportCreateInput")
    class InputSerializer(serializers.Serializer):
        image = serializers.UUIDField()
        reason = serializers.CharField(max_length=1000, help_text="What is wrong with it.")
        share_token = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=200,
            help_text="The token of the share link that showed you the picture.",
        )

    @extend_schema(
        tags=["reports"],
        operation_id="reports_create",
        summary="Report a picture someone shared with you",
        description=(
            "The picture joins the moderators' queue until a moderator decides. Give the "
            "`share_token` of the link that showed it. Your own pictures cannot be reported "
            "(delete them instead): 400. A picture you were not shown: 404. Reporting the same "
            "picture again while your report is open answers the open report."
        ),
        request=InputSerializer,
        responses={201: ReportOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        image, link = _reported_image(
            user=request.user, image_id=values["image"], share_token=values.get("share_token", "")
        )
        report = services.image_report_create(
            image=image, reason=values["reason"], reporter=request.user, share_link=link
        )
        return Response(ReportOutput(report).data, status=status.HTTP_201_CREATED)


# --- The review queue -----------------------------------------------------------------------


class ReviewOwnerOutput(serializers.Serializer):
    id = serializers.UUIDField(source="public_id")
    email = serializers.EmailField()


class ImageScanOutput(serializers.ModelSerializer):
    class Meta:
        model = ImageScan
        fields = ["verdict", "reason", "scores", "flagged", "created_at"]


class ReviewItemOutput(serializers.ModelSerializer):
    """A picture waiting for a moderator, with what they weigh."""

    state = serializers.ChoiceField(
        source="moderation_state", choices=GeneratedImage.Moderation.choices
    )
    reason = serializers.SerializerMethodField()
    prompt = serializers.CharField(source="generation.prompt")
    review_category = serializers.CharField(source="generation.review_category")
    model_label = serializers.CharField(source="generation.model_label")
    owner = ReviewOwnerOutput()
    scan = serializers.SerializerMethodField()
    open_reports = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedImage
        fields = [
            "id",
            "state",
            "reason",
            "review_category",
            "prompt",
            "model_label",
            "owner",
            "scan",
            "open_reports",
            "width",
            "height",
            "url",
            "created_at",
        ]

    def get_reason(self, image) -> str:
        return services.review_reason(image)

    @extend_schema_field(ImageScanOutput(allow_null=True))
    def get_scan(self, image) -> dict | None:
        scan = getattr(image, "scan", None)
        return ImageScanOutput(scan).data if scan is not None else None

    def get_open_reports(self, image) -> int:
        count = getattr(image, "open_reports", None)  # annotated by the queue
        if count is None:
            count = image.reports.filter(status=ImageReport.Status.OPEN).count()
        return count

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, image) -> str:
        view = reverse("api:moderation-image-file", kwargs={"image_id": image.id})
        return media_url(name=image.file.name, view_url=view, request=self.context["request"])


class ReviewQueuePagination(DefaultCursorPagination):
    ordering = ("created_at", "id")  # oldest first: who waited longest comes first


class ReviewQueueApi(APIView):
    pagination_class = ReviewQueuePagination

    class FilterSerializer(serializers.Serializer):
        reason = serializers.ChoiceField(
            choices=[
                ("prompt", "A prompt rule sent it"),
                ("scan", "The safety scan held it"),
                ("report", "Someone reported it"),
            ],
            required=False,
        )
        category = serializers.ChoiceField(choices=Category.choices, required=False)
        owner = serializers.EmailField(required=False, help_text="The owner's e-mail (any case).")

    @extend_schema(
        tags=["moderation"],
        operation_id="moderation_queue_list",
        summary="The review queue, oldest first (moderators)",
        description=(
            "Held pictures (a prompt rule sent them, or the safety scan flagged them or could "
            "not read them) and shown pictures someone reported. Each has its `url` for "
            "moderators. Cursor pagination (`cursor`, `page_size`)."
        ),
        parameters=[FilterSerializer],
        responses={200: ReviewItemOutput(many=True), **ERRORS, **MODERATORS_ONLY},
    )
    def get(self, request):
        _moderator(request)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queue = selectors.review_queue(filters=selectors.ReviewFilters(**filters.validated_data))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queue, request, view=self)
        data = ReviewItemOutput(page, many=True, context={"request": request}).data
        return paginator.get_paginated_response(data)


class ReviewImageFileApi(APIView):
    @extend_schema(
        tags=["moderation"],
        operation_id="moderation_image_file_get",
        summary="A picture in full, whatever its state (moderators)",
        description="The picture a queue item's `url` points at, held or rejected ones too.",
        responses={
            (200, "image/*"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="With S3 storage: a presigned URL."),
            **MODERATED_IMAGE,
        },
    )
    def get(self, request, image_id):
        image = selectors.review_image_get(moderator=request.user, image_id=image_id)
        return file_response(name=image.file.name, media_type=image.media_type)


class DecisionOutput(serializers.ModelSerializer):
    moderator = serializers.EmailField(source="moderator.email", allow_null=True, default=None)

    class Meta:
        model = ImageDecision
        fields = ["id", "decision", "reason", "moderator", "created_at"]


class DecidedImageOutput(serializers.ModelSerializer):
    state = serializers.ChoiceField(
        source="moderation_state", choices=GeneratedImage.Moderation.choices
    )
    reason = serializers.CharField(source="moderation_reason")
    decision = serializers.SerializerMethodField()

    class Meta:
        model = GeneratedImage
        fields = ["id", "state", "reason", "moderated_at", "decision"]

    @extend_schema_field(DecisionOutput)
    def get_decision(self, image) -> dict:
        return DecisionOutput(self.context["decision"]).data


class ReviewDecisionApi(APIView):
    @extend_schema_serializer(component_name="ReviewDecisionInput")
    class InputSerializer(serializers.Serializer):
        decision = serializers.ChoiceField(choices=ImageDecision.Decision.choices)
        reason = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=300,
            help_text="Shown to the owner on a rejection; kept in the audit trail.",
        )

    @extend_schema(
        tags=["moderation"],
        operation_id="moderation_decision_create",
        summary="Approve or reject a picture (moderators)",
        description=(
            "Approving shows the picture to its owner (and its share links); rejecting hides it "
            "for good, tells the owner `reason` (a default if empty) and counts a strike against "
            "them. Either way the picture's open reports are closed and the decision is an "
            "audit record. A picture still being scanned: 409."
        ),
        request=InputSerializer,
        responses={200: DecidedImageOutput, **ERRORS, **MODERATED_IMAGE, **CONFLICT},
    )
    def post(self, request, image_id):
        image = selectors.review_image_get(moderator=request.user, image_id=image_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        decision = services.image_decide(
            moderator=request.user,
            image=image,
            decision=data.validated_data["decision"],
            reason=data.validated_data.get("reason", ""),
        )
        image.refresh_from_db()
        return Response(DecidedImageOutput(image, context={"decision": decision}).data)


# --- Stopped prompts ------------------------------------------------------------------------


class PromptBlockOutput(serializers.ModelSerializer):
    user = ReviewOwnerOutput(allow_null=True)

    class Meta:
        model = PromptBlock
        fields = ["id", "prompt", "category", "action", "source", "rule_id", "user", "created_at"]


def _prompt_blocks(*, moderator, category="", action="", source="", user="") -> QuerySet:
    blocks = prompt_block_list(
        user=moderator,
        filters=PromptBlockFilters(
            category=category or None, action=action or None, source=source or None
        ),
    )
    # The moderation selector has no e-mail filter: the one read it lacks, scoped the same.
    return blocks.filter(user__email__iexact=user) if user else blocks


class PromptBlockListApi(APIView):
    pagination_class = DefaultCursorPagination

    class FilterSerializer(serializers.Serializer):
        category = serializers.ChoiceField(choices=Category.choices, required=False)
        action = serializers.ChoiceField(choices=PromptBlock.Action.choices, required=False)
        source = serializers.ChoiceField(choices=PromptBlock.Source.choices, required=False)
        user = serializers.EmailField(required=False, help_text="The user's e-mail (any case).")

    @extend_schema(
        tags=["moderation"],
        operation_id="moderation_blocked_prompts_list",
        summary="Prompts a rule stopped or sent to review, newest first (moderators)",
        description=(
            "Each with the id of the rule that fired (rules are edited by administrators in "
            "the admin). Cursor pagination (`cursor`, `page_size`)."
        ),
        parameters=[FilterSerializer],
        responses={200: PromptBlockOutput(many=True), **ERRORS, **MODERATORS_ONLY},
    )
    def get(self, request):
        moderator = _moderator(request)
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        blocks = _prompt_blocks(moderator=moderator, **filters.validated_data)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(blocks, request, view=self)
        return paginator.get_paginated_response(PromptBlockOutput(page, many=True).data)


# --- Appeals --------------------------------------------------------------------------------


class SuspensionOutput(serializers.Serializer):
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    appeal = serializers.CharField()
    appealed_at = serializers.DateTimeField(allow_null=True)


class SuspensionAppealApi(APIView):
    @extend_schema_serializer(component_name="SuspensionAppealInput")
    class InputSerializer(serializers.Serializer):
        text = serializers.CharField(max_length=2000, help_text="Why it should be lifted.")

    @extend_schema(
        tags=["moderation"],
        operation_id="suspension_appeal",
        summary="Appeal your account's suspension",
        description=(
            "A suspended account cannot generate or train. An administrator reads the appeal "
            "and may lift the suspension; appealing again replaces the text. Not suspended: "
            "400 with `code` `not_suspended`."
        ),
        request=InputSerializer,
        responses={200: SuspensionOutput, **ERRORS},
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        suspension = suspension_appeal(user=request.user, text=data.validated_data["text"])
        return Response(SuspensionOutput(suspension).data)
