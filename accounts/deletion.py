"""Account deletion: everything a user owns goes, in the database, in storage and remotely.

Each app that stores something for a user registers an eraser, once, in AppConfig.ready():

    from accounts.deletion import register_eraser

    def erase_trainings_data(*, user):
        for lora_model in LoraModel.objects.filter(owner=user).exclude(replicate_name=None):
            replicate_gateway.destination_model_delete(full_name=lora_model.replicate_full_name)
        storage_folder_delete(f"datasets/{user.public_id}")  # core.files
        LoraModel.objects.filter(owner=user).delete()

    register_eraser(erase_trainings_data, name="trainings")

An eraser must be safe to run again after it failed halfway (the task is retried): delete
remote things first, then files, then rows, and treat "already gone" as done. Erasers run in
registration order; the accounts app's own runs last, then the user row is deleted (which
cascades to any row an eraser left).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from core.broker import enqueues_work
from core.exceptions import DomainError
from core.files import storage_folder_delete

from .models import User
from .services import user_tokens_revoke

logger = logging.getLogger(__name__)

Eraser = Callable[..., None]
_erasers: dict[str, Eraser] = {}

# Folders of default_storage that hold only one user's files, as `<prefix>/<user id>/...`.
USER_STORAGE_PREFIXES = ["avatars", "exports"]


def register_eraser(eraser: Eraser, *, name: str | None = None) -> None:
    """Add `eraser(*, user)` to what account deletion runs. Registering twice is a no-op."""
    key = name or f"{eraser.__module__}.{eraser.__qualname__}"
    _erasers[key] = eraser


@enqueues_work
def account_deletion_request(*, user: User, password: str) -> User:
    """Start deleting an account: it stops working at once, the erasing runs in the background."""
    from .tasks import account_delete_task  # the tasks module imports this one

    if not user.check_password(password):
        raise DomainError("Your password is not correct.", field="password", code="wrong_password")
    with transaction.atomic():
        User.objects.filter(pk=user.pk, deletion_requested_at__isnull=True).update(
            deletion_requested_at=timezone.now()
        )
        User.objects.filter(pk=user.pk).update(is_active=False)
        user_tokens_revoke(user=user)
        # Before the commit: the erasing may have run (and deleted the row) by the time it ends.
        user.refresh_from_db()
        account_delete_task.delay_on_commit(user.pk)
    logger.info("account deletion requested for user %s", user.pk)
    return user


def _erase_accounts_data(*, user: User) -> None:
    for export in user.data_exports.all():
        if export.file:
            export.file.delete(save=False)
    user.data_exports.all().delete()
    if user.avatar:
        user.avatar.delete(save=False)
    for prefix in USER_STORAGE_PREFIXES:
        for folder in user.storage_folders:  # by public id, and by number (older files)
            storage_folder_delete(f"{prefix}/{folder}")
    # Not cascaded (simplejwt keeps them with a null user): they name the user, so they go too.
    OutstandingToken.objects.filter(user=user).delete()
    _sessions_delete(user=user)


def _sessions_delete(*, user: User) -> None:
    """Session rows name the user without a foreign key; find them by their content."""
    if settings.SESSION_ENGINE != "django.contrib.sessions.backends.db":
        return  # cache-based sessions expire on their own; the user no longer exists
    user_id = str(user.pk)
    doomed = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator(
            chunk_size=2000
        )
        if str(session.get_decoded().get("_auth_user_id")) == user_id
    ]
    Session.objects.filter(pk__in=doomed).delete()


def account_erase(*, user_id: int) -> bool:
    """Run every eraser, then delete the user. Returns False when there was nothing to do.

    Only accounts whose deletion was requested are erased; running it twice is harmless.
    """
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return False
    if user.deletion_requested_at is None:
        logger.error("refusing to erase user %s: no deletion was requested", user_id)
        return False
    for name, eraser in list(_erasers.items()):
        logger.info("erasing user %s: %s", user_id, name)
        eraser(user=user)
    _erase_accounts_data(user=user)
    user.delete()
    logger.info("account of user %s deleted", user_id)
    return True
