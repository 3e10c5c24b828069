"""Datasets: uploads (one by one or a zip), background normalisation, captions, the training zip."""

from __future__ import annotations

import contextlib
import io
import logging
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum

from accounts.quotas import quota_check
from core.exceptions import DomainError

from .. import archives
from ..imaging import MAX_UPLOAD_BYTES, ImageRejected, normalise_image, sniff_format
from ..models import Dataset, DatasetImage

logger = logging.getLogger(__name__)

MAX_IMAGES = 30
MIN_IMAGES = 10
MAX_CAPTION_CHARS = 1000
_ACCEPTED_KINDS = {"JPEG", "PNG", "WebP", "HEIC"}


@dataclass(frozen=True)
class UploadRefusal:
    """A file that was not added, with the reason in plain words."""

    name: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"name": self.name, "code": self.code, "message": self.message}


@dataclass(frozen=True)
class UploadResult:
    added: list[DatasetImage]
    refused: list[UploadRefusal]


def _folder(dataset: Dataset) -> str:
    return f"datasets/{dataset.owner_id}/{dataset.id}"


def dataset_create(
    *, user, name: str, target_size: int = 1024, caption_with_trigger_word: bool = True
) -> Dataset:
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
    )


def dataset_update(
    *, dataset: Dataset, name: str | None = None, caption_with_trigger_word: bool | None = None
) -> Dataset:
    if name is not None:
        if not name.strip():
            raise DomainError("Give the dataset a name.", field="name")
        dataset.name = name.strip()[:100]
    if caption_with_trigger_word is not None:
        dataset.caption_with_trigger_word = caption_with_trigger_word
    dataset.save()
    return dataset


def _caption_clean(text: str) -> str:
    return " ".join(text.split())[:MAX_CAPTION_CHARS]


def _pair_captions(
    files: Iterable[tuple[str, bytes]],
) -> tuple[list[tuple[str, bytes, str]], dict[str, str]]:
    """Split uploads into images and `.txt` captions; a caption goes with the same-named image."""
    images, captions = [], {}
    for name, data in files:
        path = PurePosixPath(name.replace("\\", "/"))
        if path.suffix.lower() == ".txt":
            captions[path.stem.lower()] = _caption_clean(data.decode("utf-8", errors="replace"))
        else:
            images.append((path.name, data))
    paired = [
        (name, data, captions.pop(PurePosixPath(name).stem.lower(), "")) for name, data in images
    ]
    return paired, captions


def dataset_images_add(*, dataset: Dataset, files: Iterable[tuple[str, bytes]]) -> UploadResult:
    """Add uploaded files (name, bytes). Each image is checked at once for what can be told
    from its first bytes, stored, and normalised in the background; `.txt` files become the
    captions of the same-named images. Refused files are reported, the others still added."""
    paired, orphan_captions = _pair_captions(files)
    refused = [
        UploadRefusal(f"{stem}.txt", "caption_without_image", "No photo with the same name.")
        for stem in orphan_captions
    ]
    accepted: list[tuple[str, bytes, str]] = []
    for name, data, caption in paired:
        problem = _quick_check(name, data)
        if problem:
            refused.append(problem)
        else:
            accepted.append((name, data, caption))
    return _store(dataset=dataset, accepted=accepted, refused=refused)


def dataset_zip_add(*, dataset: Dataset, stream) -> UploadResult:
    """Add the photos (and `.txt` captions) of a zip; unsafe or bad entries are refused by name."""
    try:
        entries = archives.read_photo_zip(stream)
    except archives.ArchiveRejected as error:
        raise DomainError(error.message, field="archive", code=error.code) from error
    refused: list[UploadRefusal] = []
    accepted: list[tuple[str, bytes, str]] = []
    for entry in entries:
        if isinstance(entry, archives.ZipRefusal):
            refused.append(UploadRefusal(entry.name, entry.code, entry.message))
            continue
        problem = _quick_check(entry.name, entry.data)
        if problem:
            refused.append(problem)
        else:
            accepted.append((PurePosixPath(entry.name).name, entry.data, entry.caption or ""))
    return _store(dataset=dataset, accepted=accepted, refused=refused)


def _quick_check(name: str, data: bytes) -> UploadRefusal | None:
    if len(data) > MAX_UPLOAD_BYTES:
        return UploadRefusal(name, "file_too_large", "The file is larger than 25 MB.")
    if not data:
        return UploadRefusal(name, "empty_file", "The file is empty.")
    kind = sniff_format(data)
    if kind not in _ACCEPTED_KINDS:
        what = f"a {kind} file" if kind else "not an image we can read"
        return UploadRefusal(
            name, "unsupported_format", f"This is {what}. Upload JPEG, PNG, WebP or HEIC photos."
        )
    return None


def _store(
    *, dataset: Dataset, accepted: list[tuple[str, bytes, str]], refused: list[UploadRefusal]
) -> UploadResult:
    from ..tasks import dataset_image_process_task  # the tasks module imports the services

    with transaction.atomic():
        # Lock the dataset so two uploads at once cannot pass the count together.
        Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
        current = dataset.images.exclude(status=DatasetImage.Status.REJECTED).count()
        room = MAX_IMAGES - current
        if room < len(accepted):
            for name, _, _ in accepted[max(room, 0) :]:
                refused.append(
                    UploadRefusal(
                        name,
                        "too_many_images",
                        f"A dataset holds at most {MAX_IMAGES} photos.",
                    )
                )
            accepted = accepted[: max(room, 0)]
        total_bytes = sum(len(data) for _, data, _ in accepted)
        if accepted:
            quota_check(user=dataset.owner, kind="storage_bytes", amount=total_bytes)
        added: list[DatasetImage] = []
        saved_names: list[str] = []
        try:
            for name, data, caption in accepted:
                image = DatasetImage(
                    dataset=dataset,
                    original_name=name[:255],
                    caption=_caption_clean(caption),
                    size_bytes=len(data),
                )
                stored = default_storage.save(
                    f"{_folder(dataset)}/uploads/{image.id}", ContentFile(data)
                )
                saved_names.append(stored)
                image.upload.name = stored
                image.save()
                added.append(image)
        except BaseException:
            # The rows roll back with the transaction; the files must go too.
            for stored in saved_names:
                default_storage.delete(stored)
            raise
        for image in added:
            dataset_image_process_task.delay_on_commit(str(image.id))
    return UploadResult(added=added, refused=refused)


def dataset_image_process(*, image_id) -> DatasetImage | None:
    """Normalise one upload: decode, orient, strip metadata, resize, thumbnail, measure.

    Safe to run twice: an image that is no longer pending is left as it is.
    """
    image = DatasetImage.objects.select_related("dataset").filter(pk=image_id).first()
    if image is None or image.status != DatasetImage.Status.PENDING or not image.upload:
        return image
    upload_name = image.upload.name
    try:
        with default_storage.open(upload_name, "rb") as upload:
            result = normalise_image(upload, long_side=image.dataset.target_size)
    except ImageRejected as rejection:
        DatasetImage.objects.filter(pk=image.pk, status=DatasetImage.Status.PENDING).update(
            status=DatasetImage.Status.REJECTED,
            rejection_code=rejection.code,
            rejection_message=rejection.message[:300],
            upload="",
            size_bytes=0,
        )
        default_storage.delete(upload_name)
        image.refresh_from_db()
        return image
    except FileNotFoundError:
        DatasetImage.objects.filter(pk=image.pk, status=DatasetImage.Status.PENDING).update(
            status=DatasetImage.Status.REJECTED,
            rejection_code="missing_upload",
            rejection_message="The upload was lost. Please upload this photo again.",
            upload="",
        )
        image.refresh_from_db()
        return image

    folder = _folder(image.dataset)
    training_name = default_storage.save(
        f"{folder}/{image.id}.{result.training_extension}", ContentFile(result.training)
    )
    thumbnail_name = default_storage.save(
        f"{folder}/{image.id}-thumb.{result.thumbnail_extension}", ContentFile(result.thumbnail)
    )
    measurements = result.measurements
    updated = DatasetImage.objects.filter(pk=image.pk, status=DatasetImage.Status.PENDING).update(
        status=DatasetImage.Status.READY,
        upload="",
        training_file=training_name,
        thumbnail=thumbnail_name,
        width=result.training_size[0],
        height=result.training_size[1],
        original_width=result.original_size[0],
        original_height=result.original_size[1],
        original_format=result.original_format,
        size_bytes=len(result.training) + len(result.thumbnail),
        face_count=measurements.face_count if measurements else None,
        blur_score=measurements.sharpness if measurements else None,
        perceptual_hash=f"{measurements.phash:016x}" if measurements else "",
        shot_type=(measurements and measurements.shot_type) or DatasetImage.ShotType.UNKNOWN,
        measurements=measurements.to_dict() if measurements else {},
    )
    if updated:
        default_storage.delete(upload_name)
    else:  # processed concurrently or deleted meanwhile: drop what we wrote
        default_storage.delete(training_name)
        default_storage.delete(thumbnail_name)
    image.refresh_from_db()
    return image


def dataset_image_caption_update(*, image: DatasetImage, caption: str) -> DatasetImage:
    if len(caption or "") > MAX_CAPTION_CHARS:
        raise DomainError(f"A caption has at most {MAX_CAPTION_CHARS} characters.", field="caption")
    image.caption = _caption_clean(caption or "")
    image.save(update_fields=["caption"])
    return image


def dataset_image_face_confirm(*, image: DatasetImage, confirmed: bool) -> DatasetImage:
    """The owner says they are (or are not) in a photo where no face was detected."""
    image.face_confirmed = confirmed
    image.save(update_fields=["face_confirmed"])
    return image


def _files_of(image: DatasetImage) -> list[str]:
    return [f.name for f in (image.upload, image.training_file, image.thumbnail) if f]


def dataset_image_delete(*, image: DatasetImage) -> None:
    names = _files_of(image)
    image.delete()
    for name in names:
        default_storage.delete(name)


def dataset_delete(*, dataset: Dataset) -> None:
    names = [name for image in dataset.images.all() for name in _files_of(image)]
    dataset.delete()
    for name in names:
        default_storage.delete(name)


def dataset_storage_bytes(*, user, since=None) -> int:
    return (
        DatasetImage.objects.filter(dataset__owner=user).aggregate(total=Sum("size_bytes"))["total"]
        or 0
    )


@contextlib.contextmanager
def dataset_training_archive(*, dataset: Dataset, trigger_word: str) -> Iterator[io.IOBase]:
    """The training zip of a dataset's ready photos, `NNN.jpg` + `NNN.txt`, as a temp file."""
    images = list(dataset.images.filter(status=DatasetImage.Status.READY).order_by("created_at"))

    def entries():
        for image in images:
            with default_storage.open(image.training_file.name, "rb") as stored:
                data = stored.read()
            caption = image.caption
            if dataset.caption_with_trigger_word:
                caption = (
                    caption
                    if trigger_word.lower() in caption.lower().split()
                    else f"a photo of {trigger_word}{', ' + caption if caption else ''}"
                )
            yield f"{uuid.uuid4().hex}.jpg", data, caption

    archive = archives.build_training_zip(entries())
    try:
        archive.seek(0)
        yield archive
    finally:
        archive.close()
