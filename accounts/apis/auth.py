"""Authentication: creating an account, confirming its e-mail address, signing in for a JWT
pair, refreshing it, and signing out (revoking a refresh token)."""

from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_serializer,
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

from core.api import MessageOutput
from core.schema import error

from .. import selectors, services
from ..authentication import access_token_revoke
from ..exceptions import EmailNotVerified
from ..lockout import client_ip, lockout_check, lockout_success_record
from ..models import User
from .serializers import ERRORS, TokenPairOutput


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
        operation_id="auth_register",
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
        operation_id="auth_email_verify",
        summary="Confirm an e-mail address",
        description="`key` is the last part of the link in the verification e-mail.",
        request=InputSerializer,
        responses={
            200: MessageOutput,
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
        operation_id="auth_token_create",
        summary="Sign in: get an access and a refresh token",
        description=(
            "Only for confirmed e-mail addresses (403 `email_not_verified` otherwise, and a new "
            "verification e-mail is sent). Repeated wrong passwords lock the account and the IP "
            "out for a while: 429 `locked_out` with `Retry-After`."
        ),
        request=InputSerializer,
        responses={
            200: TokenPairOutput,
            **ERRORS,
            401: error("The e-mail address and password do not match (`invalid_credentials`)."),
            403: error("The e-mail address is not confirmed yet (`email_not_verified`)."),
            429: error("Locked out after wrong passwords (`locked_out`), or too many requests."),
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
        operation_id="auth_token_refresh",
        summary="Get a new access token (and a new refresh token)",
        description="The refresh token sent is revoked: use the new one next time.",
        request=InputSerializer,
        responses={
            200: TokenPairOutput,
            **ERRORS,
            401: error("Expired, revoked or not valid: sign in again (`token_not_valid`)."),
        },
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
        operation_id="auth_logout",
        summary="Sign out: revoke a refresh token",
        description=(
            "The access token sent in `Authorization: Bearer …`, if any, is revoked too: it is "
            "refused from now on rather than until it expires."
        ),
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
        scheme, _, access = request.headers.get("Authorization", "").partition(" ")
        if scheme == "Bearer" and access.strip():
            access_token_revoke(raw=access.strip())
        return Response(status=status.HTTP_204_NO_CONTENT)
