"""Receivers connected in AccountsConfig.ready()."""

from allauth.account.signals import password_changed, password_reset, user_signed_up
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from .lockout import client_ip, lockout_clear, lockout_failure_record, lockout_success_record
from .services import user_onboard, user_tokens_revoke


@receiver(user_login_failed)
def _count_failed_login(sender, credentials, request=None, **kwargs):
    email = credentials.get("email") or credentials.get("username")
    lockout_failure_record(email=email, ip=client_ip(request))


@receiver(user_logged_in)
def _clear_failures_on_login(sender, request, user, **kwargs):
    lockout_success_record(email=user.email)


@receiver(user_signed_up)
def _onboard_new_user(sender, request, user, **kwargs):
    user_onboard(user=user)


@receiver(password_changed)
@receiver(password_reset)
def _revoke_tokens_on_new_password(sender, request, user, **kwargs):
    user_tokens_revoke(user=user)
    lockout_clear(email=user.email)
