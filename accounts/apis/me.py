"""The current user: the profile (read, update, delete the account), changing the password, and
the avatar picture."""

from django.contrib.auth import update_session_auth_hash
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_serializer, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import MessageOutput
from core.exceptions import NotFound
from core.files import private_file_response
from core.schema import AutoSchema, error

from .. import selectors, services
from ..deletion import account_deletion_request
from ..lockout import client_ip, password_confirmation
from ..models import User
from ..quotas import KINDS as QUOTA_KINDS
from ..quotas import quota_summary
from .serializers import ERRORS, TokenPairOutput


class QuotaOutput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=QUOTA_KINDS)
    label = serializers.CharField()
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True)
    resets_at = serializers.DateTimeField(allow_null=True)


class MeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    email_verified = serializers.BooleanField()
    avatar_url = serializers.URLField(allow_null=True)
    date_joined = serializers.DateTimeField()
    plan = serializers.CharField()
    usage = QuotaOutput(many=True)
    credits = inline_serializer(
        "MeCredits",
        {"balance": serializers.IntegerField(), "reserved": serializers.IntegerField()},
    )


def _me(request, user: User) -> dict:
    return {
        "id": user.public_id,
        "email": user.email,
        "display_name": user.display_name,
        "email_verified": selectors.user_email_verified(user=user),
        "avatar_url": request.build_absolute_uri(reverse("api:me-avatar")) if user.avatar else None,
        "date_joined": user.date_joined,
        "plan": selectors.plan_for_user(user=user).name,
        "usage": [usage.__dict__ for usage in quota_summary(user=user)],
        "credits": {
            "balance": selectors.credit_balance(user=user),
            "reserved": selectors.credit_reserved(user=user),
        },
    }


class _DeleteWithBodySchema(AutoSchema):
    """Documents the JSON body of DELETE `me/` (the password), which OpenAPI allows."""

    def _delete_has_body(self) -> bool:
        return True

    def _get_request_body(self, direction="request"):
        if self.method != "DELETE":
            return super()._get_request_body(direction)
        self.method = "POST"
        try:
            return super()._get_request_body(direction)
        finally:
            self.method = "DELETE"


class MeApi(APIView):
    schema = _DeleteWithBodySchema()

    @extend_schema_serializer(component_name="MeUpdateInput")
    class UpdateSerializer(serializers.Serializer):
        display_name = serializers.CharField(max_length=80, allow_blank=True)

    @extend_schema_serializer(component_name="AccountDeleteInput")
    class DeleteSerializer(serializers.Serializer):
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        tags=["me"],
        operation_id="me_get",
        summary="Your profile",
        description="Your e-mail address, plan, credits and how much of each plan limit is used.",
        responses={200: MeOutput, **ERRORS},
    )
    def get(self, request):
        return Response(MeOutput(_me(request, request.user)).data)

    @extend_schema(
        tags=["me"],
        operation_id="me_update",
        summary="Update your profile",
        description="To change the e-mail address, use the web page (it is verified first).",
        request=UpdateSerializer,
        responses={200: MeOutput, **ERRORS},
    )
    def patch(self, request):
        data = self.UpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        user = request.user
        if "display_name" in data.validated_data:
            user = services.user_profile_update(
                user=user, display_name=data.validated_data["display_name"]
            )
        return Response(MeOutput(_me(request, user)).data)

    @extend_schema(
        tags=["me"],
        operation_id="me_delete",
        summary="Delete your account",
        description=(
            "Your password confirms it. The account stops working at once (every token is "
            "revoked); everything you own is then erased in the background, including your "
            "models on Replicate."
        ),
        request=DeleteSerializer,
        responses={
            202: MessageOutput,
            **ERRORS,
            400: error("The password is wrong (`wrong_password`), or missing."),
        },
    )
    def delete(self, request):
        data = self.DeleteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        with password_confirmation(email=request.user.email, ip=client_ip(request)):
            account_deletion_request(user=request.user, password=data.validated_data["password"])
        return Response(
            {"detail": "Your account is being deleted. This cannot be undone."},
            status=status.HTTP_202_ACCEPTED,
        )


class PasswordChangeApi(APIView):
    throttle_scope = "auth"

    @extend_schema_serializer(component_name="PasswordChangeInput")
    class InputSerializer(serializers.Serializer):
        current_password = serializers.CharField(max_length=128, trim_whitespace=False)
        new_password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        tags=["me"],
        operation_id="me_password_change",
        summary="Change your password",
        description=(
            "Every refresh token you hold is revoked (other devices are signed out); the answer "
            "carries a new pair for this one."
        ),
        request=InputSerializer,
        responses={
            200: TokenPairOutput,
            **ERRORS,
            400: error("The current password is wrong (`wrong_password`), or the new one weak."),
        },
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user = request.user
        with password_confirmation(email=user.email, ip=client_ip(request)):
            services.user_password_change(user=user, **data.validated_data)
        if request.session.session_key and request._request.user.is_authenticated:
            update_session_auth_hash(request._request, user)
        return Response(services.user_tokens_issue(user=user))


class AvatarApi(APIView):
    @extend_schema(
        tags=["me"],
        operation_id="me_avatar_get",
        summary="Your avatar picture (WebP)",
        description="The picture `avatar_url` points at; 404 when you have none.",
        responses={
            (200, "image/webp"): OpenApiTypes.BINARY,
            401: ERRORS[401],
            404: error("You have no avatar picture yet."),
            429: ERRORS[429],
        },
    )
    def get(self, request):
        if not request.user.avatar:
            raise NotFound("You have no avatar picture yet.")
        return private_file_response(name=request.user.avatar.name, media_type="image/webp")
