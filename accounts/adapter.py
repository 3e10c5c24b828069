from allauth.account.adapter import DefaultAccountAdapter
from django import forms

from .lockout import LockedOut, client_ip, lockout_check


class AccountAdapter(DefaultAccountAdapter):
    """allauth, with the project's sign-in lockout shown as a form error."""

    def pre_authenticate(self, request, **credentials):
        try:
            lockout_check(
                email=credentials.get("email") or credentials.get("username"),
                ip=client_ip(request),
            )
        except LockedOut as error:
            raise forms.ValidationError(error.message, code="locked_out") from error
        super().pre_authenticate(request, **credentials)
