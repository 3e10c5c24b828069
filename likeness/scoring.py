"""How much a picture looks like the person a model was trained on, and that person's face
identity, kept with the model when a training succeeds.

The identity is the centre of the main identity of the training photos (likeness.identity),
kept only for a dataset whose owner agreed to face processing; without it pictures are not
scored (null), which is also the case of the platform's default model.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.utils import timezone
from PIL import Image

from .faces import face_distance, faces_find, likeness_score
from .identity import dataset_identity
from .models import ModelIdentity

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PictureLikeness:
    likeness: int | None  # 0-100; None: no face, or nothing to compare with
    has_face: bool | None  # None: not looked for (no identity)


NOT_SCORED = PictureLikeness(likeness=None, has_face=None)


def model_identity_vector(*, lora_model_id) -> tuple[float, ...] | None:
    """The face a model's pictures are compared with, None when it has none."""
    if lora_model_id is None:
        return None
    vector = (
        ModelIdentity.objects.filter(lora_model_id=lora_model_id)
        .values_list("vector", flat=True)
        .first()
    )
    return tuple(vector) if vector else None


def picture_likeness(
    picture: Image.Image, *, identity: tuple[float, ...] | None
) -> PictureLikeness:
    """The likeness of the largest face in `picture` to `identity`; the largest face is the
    subject of a portrait (a crowd behind them is smaller)."""
    if identity is None:
        return NOT_SCORED
    try:
        faces = faces_find(picture)
    except Exception:  # dlib's errors have no common type; a score is never worth a picture
        logger.exception("looking for faces in an output failed")
        return NOT_SCORED
    if not faces:
        return PictureLikeness(likeness=None, has_face=False)
    return PictureLikeness(
        likeness=likeness_score(face_distance(faces[0], identity)), has_face=True
    )


def model_identity_update(*, lora_model, dataset) -> ModelIdentity | None:
    """Keep the identity of the photos `lora_model` was just trained on; without face consent or
    without any face, the model keeps none (an older identity would describe other photos)."""
    identity = None
    if dataset is not None and dataset.face_consent_at is not None:
        identity = dataset_identity(dataset)
    if identity is None:
        ModelIdentity.objects.filter(lora_model=lora_model).delete()
        return None
    model_identity, _ = ModelIdentity.objects.update_or_create(
        lora_model=lora_model,
        defaults={
            "vector": [round(value, 6) for value in identity.centre],
            "photo_count": identity.photo_count,
            "computed_at": timezone.now(),
        },
    )
    return model_identity
