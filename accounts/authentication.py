from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed as JWTAuthenticationFailed
from rest_framework_simplejwt.exceptions import InvalidToken


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication with errors in the project's one shape.

    simplejwt puts a nested dict in `detail` for a bad token; clients get a plain message and
    the code `token_not_valid` instead. Its other refusals (a malformed `Authorization` header,
    a user who is gone or inactive, a password changed since the token was issued) carry the
    same nested dict: they keep their message and code, flattened.
    """

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
