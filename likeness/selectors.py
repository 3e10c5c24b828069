"""Reads of identity checks: the owner's own, and the moderators' queue (moderators only;
anyone else gets a NotFound, so the queue does not say it exists)."""

from __future__ import annotations

from django.db.models import QuerySet

from accounts.selectors import user_is_moderator
from core.exceptions import NotFound

from .models import IdentityCheck

Outcome = IdentityCheck.Outcome


def _moderator_check(user) -> None:
    if not user_is_moderator(user=user):
        raise NotFound("Not found.")


def identity_check_queue(*, moderator) -> QuerySet[IdentityCheck]:
    """Checks whose training waits for a decision, oldest first."""
    _moderator_check(moderator)
    return (
        IdentityCheck.objects.filter(outcome=Outcome.WAITING, training_run__isnull=False)
        .select_related("lora_model__owner", "training_run__dataset")
        .order_by("created_at")
    )


def identity_check_for_review(*, moderator, check_id) -> IdentityCheck:
    """One check, waiting or decided, for a moderator."""
    _moderator_check(moderator)
    check = (
        IdentityCheck.objects.select_related("lora_model__owner", "training_run__dataset")
        .filter(pk=check_id)
        .first()
    )
    if check is None:
        raise NotFound("No such identity check.")
    return check


def identity_check_photos(*, check: IdentityCheck) -> list:
    """The ready photos of the dataset the check's training uses (what the selfie is compared
    with); none once the dataset was deleted."""
    run = check.training_run
    if run is None or run.dataset is None:
        return []
    return list(run.dataset.images.filter(status="ready").order_by("created_at"))


def identity_check_photo(*, check: IdentityCheck, image_id):
    """One of those photos, or NotFound."""
    for photo in identity_check_photos(check=check):
        if str(photo.pk) == str(image_id):
            return photo
    raise NotFound("No such photo.")


def identity_check_latest(*, user, lora_model) -> IdentityCheck | None:
    """The newest check of the owner's model (for its page), None for anyone else's."""
    if lora_model.owner_id != user.pk:
        return None
    return lora_model.identity_checks.order_by("-created_at").first()
