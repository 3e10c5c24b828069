from rest_framework import exceptions
from rest_framework_simplejwt import authentication
from rest_framework_simplejwt.exceptions import InvalidToken


class JWTAuthentication(authentication.JWTAuthentication):
    """simplejwt's authentication with errors in the project's one shape.

    simplejwt puts a nested dict in `detail` for a bad token; clients get a plain message and
    the code `token_not_valid` instead.
    """

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except InvalidToken as error:
            raise exceptions.AuthenticationFailed(
                "Your access token is expired or not valid: refresh it or sign in again.",
                code="token_not_valid",
            ) from error
