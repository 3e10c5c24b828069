"""Acting on several images at once (the API's `images/bulk/` and the gallery's selection bar),
and building the zip of several images (`images/zip/` and the bar's "Download as zip")."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterable

from django.conf import settings

from core.exceptions import DomainError, NotFound

from .. import selectors
from .collections import collection_images_add, collection_images_remove, images_move
from .images import image_favourite_set, images_delete, images_zip

BULK_ACTIONS = ("delete", "move", "add", "remove", "favourite", "unfavourite")
COLLECTION_ACTIONS = ("move", "add", "remove")


def _collection(*, user, collection_id, field: str):
    try:
        return selectors.collection_get(user=user, collection_id=collection_id)
    except NotFound as error:
        raise DomainError("Unknown or unavailable.", field=field, code="not_found") from error


def images_bulk_apply(
    *,
    user,
    action: str,
    image_ids: Iterable[uuid.UUID],
    collection_id: uuid.UUID | None = None,
    from_collection_id: uuid.UUID | None = None,
) -> int:
    """Apply `action` to the user's images among `image_ids` (others' are skipped); returns
    how many. `collection_id` is the target of move/add and the source of remove."""
    if action not in BULK_ACTIONS:
        raise DomainError("Unknown action.", field="action")
    images = selectors.images_of_user(user=user, image_ids=image_ids)
    if action == "delete":
        return images_delete(images=images)
    if action in ("favourite", "unfavourite"):
        for image in images:
            image_favourite_set(image=image, favourite=action == "favourite")
        return len(images)
    if not collection_id:
        raise DomainError("Choose a collection.", field="collection", code="required")
    collection = _collection(user=user, collection_id=collection_id, field="collection")
    if action == "add":
        return collection_images_add(collection=collection, images=images)
    if action == "remove":
        return collection_images_remove(collection=collection, images=images)
    source = None
    if from_collection_id:
        source = _collection(user=user, collection_id=from_collection_id, field="from_collection")
    return images_move(images=images, to_collection=collection, from_collection=source)


def images_zip_build(*, user, image_ids: Iterable[uuid.UUID]) -> tempfile.SpooledTemporaryFile:
    """A zip (with a metadata.json) of the images among `image_ids` that the user may download,
    newest first, at most GALLERY_ZIP_MAX_IMAGES; ready to stream from its start."""
    viewer = selectors.Viewer.of(user)
    images = list(
        selectors.images_viewable(viewer=viewer)
        .filter(pk__in=list(image_ids))
        .order_by("-created_at", "-id")[: settings.GALLERY_ZIP_MAX_IMAGES]
    )
    if not images:
        raise DomainError("None of these images can be downloaded.", field="image_ids")
    return images_zip(images=images)
