"""The owner's answer on a photo with several faces: which one is them."""

from __future__ import annotations

from core.exceptions import DomainError

from ..models import DatasetImage


def dataset_image_subject_confirm(*, image: DatasetImage, face_index: int) -> DatasetImage:
    """Record that the face at `face_index` of the photo's stored faces is the owner; only on a
    photo with several faces. The report then uses that face even if it looks unlike the set."""
    if image.faces_checked_at is None or not 0 <= face_index < len(image.faces):
        raise DomainError(
            "This photo has no such face: choose one of the faces found in it.",
            field="subject_face",
        )
    if len(image.faces) < 2:
        # A confirmed face is taken at the owner's word; one face has no other to tell apart.
        raise DomainError(
            "This photo shows one face: there is none to choose. If it is not you, remove it.",
            field="subject_face",
        )
    image.subject_face = face_index
    image.save(update_fields=["subject_face"])
    return image
