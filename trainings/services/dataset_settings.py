"""A dataset itself: creating one, its name, training size, captioning and face consent."""

from __future__ import annotations

from django.utils import timezone

from core.exceptions import DomainError

from ..models import Dataset
from .faces import dataset_face_consent_set


def dataset_create(
    *,
    user,
    name: str,
    target_size: int = 1024,
    caption_with_trigger_word: bool = True,
    face_consent: bool = False,
) -> Dataset:
    """`face_consent`: the owner agreed to face vectors being computed (services/faces.py)."""
    name = (name or "").strip()
    if not name:
        raise DomainError("Give the dataset a name.", field="name")
    if target_size not in Dataset.TargetSize.values:
        raise DomainError("Choose 1024 or 512 pixels.", field="target_size")
    return Dataset.objects.create(
        owner=user,
        name=name[:100],
        target_size=target_size,
        caption_with_trigger_word=caption_with_trigger_word,
        face_consent_at=timezone.now() if face_consent else None,
    )


def dataset_update(
    *,
    dataset: Dataset,
    name: str | None = None,
    caption_with_trigger_word: bool | None = None,
    face_consent: bool | None = None,
) -> Dataset:
    if name is not None:
        if not name.strip():
            raise DomainError("Give the dataset a name.", field="name")
        dataset.name = name.strip()[:100]
    if caption_with_trigger_word is not None:
        dataset.caption_with_trigger_word = caption_with_trigger_word
    dataset.save(update_fields=["name", "caption_with_trigger_word", "updated_at"])
    if face_consent is not None:
        dataset_face_consent_set(dataset=dataset, consent=face_consent)
    return dataset
