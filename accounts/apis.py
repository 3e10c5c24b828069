"""The accounts API under /api/v1/: registration, JWT, the current user, credits and exports."""

from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.models import update_last_login
from django.urls import reverse
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import BaseAuthentication
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenRefreshSerializer
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from config.api import DefaultCursorPagination
from core.exceptions import NotFound

from . import selectors, services
from .deletion import account_deletion_request
from .exceptions import EmailNotVerified
from .exports import data_export_request
from .lockout import client_ip, lockout_check, lockout_success_record, password_confirmation
from .models import CreditEntry, DataExport, User
from .quotas import quota_summary
from .storage import stored_file_response

ERRORS = {
    400: OpenApiResponse(description="Invalid input: `errors` names each field."),
    401: OpenApiResponse(description="Not signed in, or the token is not valid."),
    429: OpenApiResponse(description="Too many requests: see `Retry-After`."),
}


class _PublicEndpoint(BaseAuthentication):
    """Authenticates nobody: a stale `Authorization` header must not break sign-in or refresh.

    It still names the Bearer scheme, so a refused sign-in is a 401 with WWW-Authenticate.
    """

    def authenticate(self, request):
        return None

    def authenticate_header(self, request):
        return 'Bearer realm="api"'


class _AuthView(APIView):
    authentication_classes = [_PublicEndpoint]
    permission_classes = [AllowAny]
    throttle_scope = "auth"


def _invalid_token() -> exceptions.AuthenticationFailed:
    return exceptions.AuthenticationFailed(
        "This refresh token is expired, revoked or not valid: sign in again.",
        code="token_not_valid",
    )


# --- Authentication -------------------------------------------------------------------------


class TokenPairOutput(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisterApi(_AuthView):
    @extend_schema_serializer(component_name="RegisterInput")
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)
        display_name = serializers.CharField(max_length=80, required=False, allow_blank=True)

    @extend_schema_serializer(component_name="RegisterOutput")
    class OutputSerializer(serializers.Serializer):
        email = serializers.EmailField()
        detail = serializers.CharField()

    @extend_schema(
        tags=["auth"],
        summary="Create an account",
        description=(
            "Sends a verification e-mail whose link carries the key for `auth/verify-email/`. "
            "For privacy the answer is the same when the address already has an account (its "
            "owner gets an e-mail saying so)."
        ),
        request=InputSerializer,
        responses={201: OutputSerializer, **ERRORS},
        auth=[],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_register(request=request._request, **data.validated_data)
        return Response(
            {
                "email": data.validated_data["email"].lower(),
                "detail": "Check your inbox: we sent a link to confirm your e-mail address.",
            },
            status=status.HTTP_201_CREATED,
        )


class VerifyEmailApi(_AuthView):
    @extend_schema_serializer(component_name="VerifyEmailInput")
    class InputSerializer(serializers.Serializer):
        key = serializers.CharField(max_length=200)

    @extend_schema(
        tags=["auth"],
        summary="Confirm an e-mail address",
        description="`key` is the last part of the link in the verification e-mail.",
        request=InputSerializer,
        responses={
            200: inline_serializer("VerifyEmailOutput", {"detail": serializers.CharField()}),
            **ERRORS,
        },
        auth=[],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.user_email_verify(request=request._request, key=data.validated_data["key"])
        return Response({"detail": "Your e-mail address is confirmed: you can sign in."})


class TokenObtainApi(_AuthView):
    @extend_schema_serializer(component_name="TokenObtainInput")
    class InputSerializer(serializers.Serializer):
        email = serializers.EmailField(max_length=254)
        password = serializers.CharField(max_length=128, trim_whitespace=False)

    @extend_schema(
        tags=["auth"],
        summary="Sign in: get an access and a refresh token",
        description=(
            "Only for confirmed e-mail addresses (403 `email_not_verified` otherwise, and a new "
            "verification e-mail is sent). Repeated wrong passwords lock the account and the IP "
            "out for a while: 429 `locked_out` with `Retry-After`."
        ),
        request=InputSerializer,
        responses={
            200: TokenPairOutput,
            403: OpenApiResponse(description="The e-mail address is not confirmed yet."),
            **ERRORS,
        },
        auth=[],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        email, password = data.validated_data["email"], data.validated_data["password"]
        lockout_check(email=email, ip=client_ip(request))
        user = authenticate(request._request, email=email, password=password)
        if user is None:
            # Counted by the user_login_failed receiver; may lock the account out.
            raise exceptions.AuthenticationFailed(
                "This e-mail address and password do not match an account.",
                code="invalid_credentials",
            )
        lockout_success_record(email=email)
        if not selectors.user_email_verified(user=user):
            services.user_verification_resend(request=request._request, user=user)
            raise EmailNotVerified(
                "Confirm your e-mail address first: we sent you a link (check your spam folder)."
            )
        update_last_login(None, user)
        return Response(services.user_tokens_issue(user=user))


class TokenRefreshApi(_AuthView):
    @extend_schema_serializer(component_name="TokenRefreshInput")
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(
        tags=["auth"],
        summary="Get a new access token (and a new refresh token)",
        description="The refresh token sent is revoked: use the new one next time.",
        request=InputSerializer,
        responses={200: TokenPairOutput, **ERRORS},
        auth=[],
    )
    def post(self, request):
        self.InputSerializer(data=request.data).is_valid(raise_exception=True)
        serializer = TokenRefreshSerializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except (TokenError, User.DoesNotExist) as error:
            raise _invalid_token() from error
        except exceptions.AuthenticationFailed as error:  # the account is no longer active
            raise _invalid_token() from error
        return Response(serializer.validated_data)


class LogoutApi(_AuthView):
    @extend_schema_serializer(component_name="LogoutInput")
    class InputSerializer(serializers.Serializer):
        refresh = serializers.CharField()

    @extend_schema(
        tags=["auth"],
        summary="Sign out: revoke a refresh token",
        request=InputSerializer,
        responses={204: None, **ERRORS},
        auth=[],
    )
    def post(self, request):
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        raw = data.validated_data["refresh"]
        try:
            RefreshToken(raw).blacklist()
        except TokenError as error:
            already = OutstandingToken.objects.filter(
                token=raw, blacklistedtoken__isnull=False
            ).exists()
            if not already:
                raise exceptions.ValidationError(
                    {"refresh": ["This refresh token is not valid."]}
                ) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- The current user -----------------------------------------------------------------------


class QuotaOutput(serializers.Serializer):
    kind = serializers.CharField()
    label = serializers.CharField()
    used = serializers.IntegerField()
    limit = serializers.IntegerField(allow_null=True)
    resets_at = serializers.DateTimeField(allow_null=True)


class MeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    display_name = serializers.CharField()
    email_verified = serializers.BooleanField()
    avatar_url = serializers.CharField(allow_null=True)
    date_joined = serializers.DateTimeField()
    plan = serializers.CharField()
    usage = QuotaOutput(many=True)
    credits = inline_serializer(
        "MeCredits",
        {"balance": serializers.IntegerField(), "reserved": serializers.IntegerField()},
    )


def _me(request, user: User) -> dict:
    return {
        "id": user.pk,
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

    @extend_schema(tags=["me"], summary="Your profile", responses={200: MeOutput, **ERRORS})
    def get(self, request):
        return Response(MeOutput(_me(request, request.user)).data)

    @extend_schema(
        tags=["me"],
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
        summary="Delete your account",
        description=(
            "Your password confirms it. The account stops working at once (every token is "
            "revoked); everything you own is then erased in the background, including your "
            "models on Replicate."
        ),
        request=DeleteSerializer,
        responses={
            202: inline_serializer("AccountDeleteOutput", {"detail": serializers.CharField()}),
            **ERRORS,
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
        summary="Change your password",
        description=(
            "Every refresh token you hold is revoked (other devices are signed out); the answer "
            "carries a new pair for this one."
        ),
        request=InputSerializer,
        responses={200: TokenPairOutput, **ERRORS},
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
        summary="Your avatar picture (WebP)",
        responses={(200, "image/webp"): OpenApiTypes.BINARY, 404: None},
    )
    def get(self, request):
        if not request.user.avatar:
            raise NotFound("You have no avatar picture yet.")
        return stored_file_response(name=request.user.avatar.name)


# --- Credits --------------------------------------------------------------------------------


class CreditEntryOutput(serializers.ModelSerializer):
    class Meta:
        model = CreditEntry
        fields = ["id", "kind", "amount", "reason", "reference", "created_at"]


class CreditHistoryPagination(DefaultCursorPagination):
    ordering = ("-created_at", "-id")

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        user = self.request.user
        response.data = {
            "balance": selectors.credit_balance(user=user),
            "reserved": selectors.credit_reserved(user=user),
            **response.data,
        }
        return response

    def get_paginated_response_schema(self, schema):
        paginated = super().get_paginated_response_schema(schema)
        paginated["properties"] = {
            "balance": {"type": "integer"},
            "reserved": {"type": "integer"},
            **paginated["properties"],
        }
        return paginated


class CreditsApi(APIView):
    pagination_class = CreditHistoryPagination

    @extend_schema(
        tags=["me"],
        summary="Your credit balance and its history, newest first",
        responses={200: CreditEntryOutput(many=True), **ERRORS},
    )
    def get(self, request):
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(
            selectors.credit_history(user=request.user), request, view=self
        )
        return paginator.get_paginated_response(CreditEntryOutput(page, many=True).data)


# --- Data export ----------------------------------------------------------------------------


class DataExportOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = DataExport
        fields = [
            "id",
            "status",
            "size_bytes",
            "error",
            "created_at",
            "finished_at",
            "expires_at",
            "download_url",
        ]

    def get_download_url(self, export) -> str | None:
        if not export.is_downloadable:
            return None
        url = reverse("api:me-export-download", kwargs={"export_id": export.id})
        return self.context["request"].build_absolute_uri(url)


class DataExportListApi(APIView):
    @extend_schema(
        tags=["me"],
        summary="Your data exports",
        responses={200: DataExportOutput(many=True), **ERRORS},
    )
    def get(self, request):
        exports = selectors.data_export_list(user=request.user)
        return Response(DataExportOutput(exports, many=True, context={"request": request}).data)

    @extend_schema(
        tags=["me"],
        summary="Ask for an export of everything you own",
        description=(
            "A zip of your images with JSON of their metadata, built in the background. Poll "
            "`me/export/{id}/` until `status` is `ready`; the download link expires."
        ),
        request=None,
        responses={202: DataExportOutput, **ERRORS},
    )
    def post(self, request):
        export = data_export_request(user=request.user)
        return Response(
            DataExportOutput(export, context={"request": request}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class DataExportDetailApi(APIView):
    @extend_schema(
        tags=["me"],
        summary="One data export",
        responses={
            200: DataExportOutput,
            401: ERRORS[401],
            404: OpenApiResponse(description="No such export among yours."),
        },
    )
    def get(self, request, export_id):
        export = selectors.data_export_get(user=request.user, export_id=export_id)
        return Response(DataExportOutput(export, context={"request": request}).data)


class DataExportDownloadApi(APIView):
    @extend_schema(
        tags=["me"],
        summary="Download a data export (zip)",
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            401: ERRORS[401],
            404: OpenApiResponse(description="No such export among yours."),
            409: OpenApiResponse(description="The export is not ready yet: poll it first."),
            410: OpenApiResponse(description="The export expired: ask for a new one."),
        },
    )
    def get(self, request, export_id):
        export = selectors.data_export_get_downloadable(user=request.user, export_id=export_id)
        return stored_file_response(
            name=export.file.name, filename=export.download_filename, attachment=True
        )
