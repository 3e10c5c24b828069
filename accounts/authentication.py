from datetime import UTC, datetime

from django.core.cache import cache
from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

_DENIED_KEY = "jwt:denied-access:{jti}"


def access_token_revoke(*, raw: str) -> bool:
    """Refuse the access token `raw` from now until it expires (signing out).

    The token ids (`jti`) are kept in the cache, each until its token's expiry. With Redis the
    cache fails open (core.cache.FailOpenRedisCache): while Redis does not answer, a process
    remembers only the tokens revoked through itself, so a token revoked before or elsewhere
    stays usable there until Redis is back or it expires (15 minutes at most).
    Returns False when `raw` is not a valid access token (nothing to revoke).
    """
    try:
        token = AccessToken(raw)
    except TokenError:
        return False
    jti = token.get(jwt_settings.JTI_CLAIM)
    if not jti:
        return False
    seconds_left = int(token["exp"] - datetime.now(tz=UTC).timestamp()) + 1
    if seconds_left > 0:
        cache.set(_DENIED_KEY.format(jti=jti), True, timeout=seconds_left)
    return True


def access_token_denied(token) -> bool:
    jti = token.get(jwt_settings.JTI_CLAIM)
    return bool(jti) and cache.get(_DENIED_KEY.format(jti=jti)) is not None


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication with errors in the project's one shape, and signed-out
    access tokens refused (`access_token_revoke`).

    simplejwt puts a nested dict in `detail` for a bad token; clients get a plain message and
    the code `token_not_valid` instead. Its other refusals (a malformed `Authorization` header,
    a user who is gone or inactive, a password changed since the token was issued) carry the
    same nested dict: they keep their message and code, flattened.
    """

    def get_validated_token(self, raw_token):
        token = super().get_validated_token(raw_token)
        if access_token_denied(token):
            raise InvalidToken("This access token was revoked (signed out).")
        return token

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except InvalidToken as error:
            raise exceptions.AuthenticationFailed(
                "Your access token is expired or not valid: refresh it or sign in again.",
                code="token_not_valid",
            ) from error
        except JWTAuthenticationFailed as error:
            detail = error.detail if isinstance(error.detail, dict) else {"detail": error.detail}
            raise exceptions.AuthenticationFailed(
                str(detail.get("detail", "Authentication failed.")),
                code=str(detail.get("code", "authentication_failed")),
            ) from error
