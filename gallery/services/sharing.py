"""Share links: a signed token naming one image or one collection, that can expire or be revoked.

The token is the link's id signed with the project's secret (django.core.signing), so it cannot
be guessed or forged, and the owner can copy the link again later. Whether a link still works is
decided by its row: a revoked or expired one raises ShareLinkGone (a NotFound, so its files and
the API answer 404 as for a link that never existed; its page says plainly that it is gone).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db.models import F
from django.utils import timezone

from core.exceptions import DomainError, NotFound

from .. import selectors
from ..models import Collection, GeneratedImage, ShareLink

_SALT = "gallery.share-link"


class ShareLinkGone(NotFound):
    """A link that was real but is revoked or has expired (`revoked` says which)."""

    def __init__(self, message: str, *, revoked: bool):
        super().__init__(message)
        self.revoked = revoked


def share_link_token(link: ShareLink) -> str:
    return signing.Signer(salt=_SALT).sign(link.id.hex)


def share_link_create(
    *,
    user,
    image: GeneratedImage | None = None,
    collection: Collection | None = None,
    expires_in_days: int | None = None,
    never_expires: bool = False,
) -> ShareLink:
    """A new link to an image or a collection of the user's (None days: the default)."""
    if (image is None) == (collection is None):
        raise DomainError("Share one image or one collection.", field="image", code="invalid")
    target = image or collection
    if target.owner_id != user.pk:
        raise NotFound("Unknown image or collection.")
    if image is not None and not selectors.image_viewable(
        viewer=selectors.Viewer.of(user), image=image
    ):
        raise DomainError(
            "This image cannot be shared while it is being checked.", field="image", code="hidden"
        )
    expires_at: datetime | None = None
    if not never_expires:
        days = settings.SHARE_LINK_DEFAULT_DAYS if expires_in_days is None else expires_in_days
        if not 1 <= days <= settings.SHARE_LINK_MAX_DAYS:
            raise DomainError(
                f"A link lasts 1 to {settings.SHARE_LINK_MAX_DAYS} days.",
                field="expires_in_days",
                code="invalid",
            )
        expires_at = timezone.now() + timedelta(days=days)
    return ShareLink.objects.create(
        owner=user, image=image, collection=collection, expires_at=expires_at
    )


def share_link_revoke(*, link: ShareLink) -> ShareLink:
    ShareLink.objects.filter(pk=link.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    link.refresh_from_db()
    return link


def share_link_resolve(*, token: str) -> ShareLink:
    """The active link a token names; NotFound for a forged or unknown token, ShareLinkGone
    (a NotFound too) for a revoked or expired link."""
    try:
        link_id = signing.Signer(salt=_SALT).unsign(token)
    except signing.BadSignature as error:
        raise NotFound("This link does not exist or is no longer shared.") from error
    link = (
        ShareLink.objects.select_related("image", "collection", "owner").filter(id=link_id).first()
    )
    if link is None:
        raise NotFound("This link does not exist or is no longer shared.")
    if not link.is_active():
        raise ShareLinkGone("This link is no longer shared.", revoked=link.revoked_at is not None)
    return link


def share_link_viewed(*, link: ShareLink) -> None:
    ShareLink.objects.filter(pk=link.pk).update(view_count=F("view_count") + 1)
