"""Collections (also used as campaigns): create, rename, delete, and put images in and out."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, transaction

from core.exceptions import DomainError

from ..models import Collection, GeneratedImage


def _name_check(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise DomainError("Give the collection a name.", field="name", code="required")
    if len(name) > 80:
        raise DomainError("At most 80 characters.", field="name", code="too_long")
    return name


def _duplicate() -> DomainError:
    return DomainError(
        "You already have a collection with this name.", field="name", code="duplicate"
    )


def collection_create(*, user, name: str, description: str = "") -> Collection:
    try:
        with transaction.atomic():
            return Collection.objects.create(
                owner=user, name=_name_check(name), description=(description or "").strip()
            )
    except IntegrityError as error:
        raise _duplicate() from error


def collection_update(
    *, collection: Collection, name: str | None = None, description: str | None = None
) -> Collection:
    if name is not None:
        collection.name = _name_check(name)
    if description is not None:
        collection.description = description.strip()
    try:
        with transaction.atomic():
            collection.save(update_fields=["name", "description", "updated_at"])
    except IntegrityError as error:
        raise _duplicate() from error
    return collection


def collection_delete(*, collection: Collection) -> None:
    """The collection goes; its images stay in the gallery."""
    collection.delete()


def _same_owner(collection: Collection, images: Iterable[GeneratedImage]) -> list[GeneratedImage]:
    images = list(images)
    if any(image.owner_id != collection.owner_id for image in images):
        raise DomainError("Unknown image.", field="image_ids", code="not_found")
    return images


def collection_images_add(*, collection: Collection, images: Iterable[GeneratedImage]) -> int:
    images = _same_owner(collection, images)
    collection.images.add(*images)
    Collection.objects.filter(pk=collection.pk).update(updated_at=collection.updated_at)
    return len(images)


def collection_images_remove(*, collection: Collection, images: Iterable[GeneratedImage]) -> int:
    images = _same_owner(collection, images)
    collection.images.remove(*images)
    return len(images)


@transaction.atomic
def images_move(
    *,
    images: Iterable[GeneratedImage],
    to_collection: Collection,
    from_collection: Collection | None = None,
) -> int:
    """Put images in `to_collection`, taking them out of `from_collection` when given."""
    images = _same_owner(to_collection, images)
    if from_collection is not None:
        if from_collection.owner_id != to_collection.owner_id:
            raise DomainError("Unknown collection.", field="from_collection", code="not_found")
        if from_collection.pk != to_collection.pk:
            from_collection.images.remove(*images)
    to_collection.images.add(*images)
    return len(images)
