from django.core.exceptions import PermissionDenied

from .lockout import client_ip, lockout_remaining


class LockoutBackend:
    """Refuses every sign-in attempt while the account or the client IP is locked out.

    Listed first in AUTHENTICATION_BACKENDS: raising PermissionDenied stops Django from trying
    the other backends, so not even a right password gets through (the admin's login included).
    It never authenticates anyone itself.
    """

    def authenticate(self, request, username=None, password=None, **credentials):
        email = credentials.get("email") or username
        if lockout_remaining(email=email, ip=client_ip(request)):
            raise PermissionDenied("locked out")
        return None

    # No get_user(): it never signs anyone in, and Django (force_login included) then skips it
    # when it picks the backend that restores a session's user.
