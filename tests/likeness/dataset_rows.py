"""Dataset photos with their measurements and faces, made without the worker: the photos are
measured and their faces found here, as the worker would (trainings.imaging), and stored on
`DatasetImage` rows directly, so a report over real photos takes no upload."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone
from PIL import Image

from trainings.imaging import faces_of
from trainings.models import Dataset, DatasetImage
from trainings.quality import measure_image

# Per test process, by the caller's name for the picture: measuring and finding faces is the
# slow part, and several tests use the same pictures.
_pictures: dict[str, Image.Image] = {}
_measured: dict[str, dict] = {}
_faces: dict[str, list[dict]] = {}


def _picture(key: str, make: Callable[[], Image.Image]) -> Image.Image:
    if key not in _pictures:
        _pictures[key] = make().convert("RGB")
    return _pictures[key]


def dataset_with_consent(user, name: str = "Me") -> Dataset:
    return Dataset.objects.create(owner=user, name=name, face_consent_at=timezone.now())


def photo_add(
    dataset: Dataset, name: str, make: Callable[[], Image.Image], *, key: str | None = None
) -> DatasetImage:
    """A ready photo of `dataset` named `name`, with its faces if the dataset has consent;
    `key` names the picture for the cache (the same key is the same picture)."""
    key = key or name
    picture = _picture(key, make)
    if key not in _measured:
        _measured[key] = measure_image(picture).to_dict()
    consent = dataset.face_consent_at is not None
    if consent and key not in _faces:
        faces = faces_of(picture)
        assert faces is not None
        _faces[key] = [face.as_json() for face in faces]
    return DatasetImage.objects.create(
        dataset=dataset,
        original_name=name,
        status=DatasetImage.Status.READY,
        width=picture.width,
        height=picture.height,
        measurements=_measured[key],
        faces=_faces[key] if consent else [],
        faces_checked_at=timezone.now() if consent else None,
        thumbnail=f"datasets/{name}.webp",  # only named: the page links to it, no test opens it
    )
