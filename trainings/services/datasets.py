"""Datasets: uploads (one by one or a zip), background normalisation, captions, the training zip."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import BinaryIO

from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Sum

from accounts.quotas import quota_check
from core.broker import enqueues_work
from core.exceptions import DomainError

from .. import archives
from ..imaging import (
    MAX_UPLOAD_BYTES,
    ImageRejected,
    normalise_image,
    pixel_check,
    sniff_format,
)
from ..models import Dataset, DatasetImage
from .faces import dataset_image_faces_catch_up, dataset_image_faces_store

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
    # Served only through views that check the owner (never presigned), so the number stays.
    return f"datasets/{dataset.owner_id}/{dataset.id}"


def _caption_clean(text: str) -> str:
    return " ".join(text.split())[:MAX_CAPTION_CHARS]


# An upload as a service takes it: its name and its content, bytes or a file (an UploadedFile,
# which Django keeps in a temporary file for a large request, is never read whole).
Upload = tuple[str, "bytes | File | BinaryIO"]
# A caption needs at most 1000 characters once its spaces are collapsed: no more is read.
_CAPTION_READ_BYTES = 64 * 1024
# Zip entries are spooled to disk past this size, so a zip's photos are not all held in memory.
_SPOOL_BYTES = 1024 * 1024


class UploadTooLarge(DomainError):
    """One file of the upload is over the per-photo limit: the request is refused whole."""

    status_code = 413
    code = "file_too_large"


def _as_file(content) -> File:
    if isinstance(content, bytes | bytearray | memoryview):
        return ContentFile(bytes(content))
    if isinstance(content, File):
        return content
    return File(content)


def _caption_read(file: File) -> str:
    file.seek(0)
    return _caption_clean(file.read(_CAPTION_READ_BYTES).decode("utf-8", errors="replace"))


def _pair_captions(
    files: Iterable[tuple[str, File]],
) -> tuple[list[tuple[str, File, str]], dict[str, str]]:
    """Split uploads into images and `.txt` captions; a caption goes with the same-named image."""
    images, captions = [], {}
    for name, file in files:
        path = PurePosixPath(name.replace("\\", "/"))
        if path.suffix.lower() == ".txt":
            captions[path.stem.lower()] = _caption_read(file)
        else:
            images.append((path.name, file))
    paired = [
        (name, file, captions.pop(PurePosixPath(name).stem.lower(), "")) for name, file in images
    ]
    return paired, captions


def dataset_images_add(*, dataset: Dataset, files: Iterable[Upload]) -> UploadResult:
    """Add uploaded files (name, content); see `dataset_uploads_add`."""
    return dataset_uploads_add(dataset=dataset, files=files)


def dataset_zip_add(*, dataset: Dataset, stream) -> UploadResult:
    """Add the photos (and `.txt` captions) of a zip; see `dataset_uploads_add`."""
    return dataset_uploads_add(dataset=dataset, archive=stream)


@enqueues_work
def dataset_uploads_add(
    *, dataset: Dataset, files: Iterable[Upload] = (), archive=None
) -> UploadResult:
    """Add the photos of one upload request: single files and/or a zip, with `.txt` captions.

    Each photo is checked at once for what its first bytes and its header tell (format,
    pixels), stored, and normalised in the background; `.txt` files become the captions of the
    same-named photos. A file that is not a usable photo is refused by name and the others are
    added, but the request as a whole is all or nothing: a file over 25 MB (UploadTooLarge,
    413) or more photos than the dataset has room for (400) refuses all of it, and nothing is
    stored. Files are written to storage only once the rows are committed, so a transaction
    that rolls back (this one, or one around it) leaves no file behind.
    """
    uploads = [(name, _as_file(content)) for name, content in files]
    for name, file in uploads:
        # From the size Django counted while streaming it to disk: the file is not read.
        if file.size > MAX_UPLOAD_BYTES:
            raise UploadTooLarge(
                f"{name} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, so nothing was "
                "added. Upload a smaller photo (one straight from a phone is 2 to 8 MB).",
                field="files",
            )
    paired, orphan_captions = _pair_captions(uploads)
    refused = [
        UploadRefusal(f"{stem}.txt", "caption_without_image", "No photo with the same name.")
        for stem in orphan_captions
    ]
    accepted: list[tuple[str, File, str]] = []
    for name, file, caption in paired:
        problem = _quick_check(name, file)
        if problem:
            refused.append(problem)
        else:
            accepted.append((name, file, caption))
        _count_check(current=None, adding=len(accepted))
    if archive is not None:
        _zip_read(stream=archive, accepted=accepted, refused=refused)
    return _store(dataset=dataset, accepted=accepted, refused=refused)


def _zip_read(
    *, stream, accepted: list[tuple[str, File, str]], refused: list[UploadRefusal]
) -> None:
    try:
        entries = archives.read_photo_zip(stream)
    except archives.ArchiveRejected as error:
        raise DomainError(error.message, field="archive", code=error.code) from error
    for entry in entries:
        if isinstance(entry, archives.ZipRefusal):
            refused.append(UploadRefusal(entry.name, entry.code, entry.message))
            continue
        # One entry in memory at a time: each goes to a spooled file (on disk past 1 MB), which
        # is closed once stored or refused.
        spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115
        spool.write(entry.data)
        spool.seek(0)
        file = File(spool, name=entry.name)
        problem = _quick_check(entry.name, file)
        if problem:
            spool.close()
            refused.append(problem)
        else:
            accepted.append((PurePosixPath(entry.name).name, file, entry.caption or ""))
        _count_check(current=None, adding=len(accepted), closing=accepted)


def _quick_check(name: str, file: File) -> UploadRefusal | None:
    size = file.size
    if size > MAX_UPLOAD_BYTES:
        return UploadRefusal(name, "file_too_large", "The file is larger than 25 MB.")
    if not size:
        return UploadRefusal(name, "empty_file", "The file is empty.")
    file.seek(0)
    head = file.read(64)
    file.seek(0)
    kind = sniff_format(head)
    if kind not in _ACCEPTED_KINDS:
        what = f"a {kind} file" if kind else "not an image we can read"
        return UploadRefusal(
            name, "unsupported_format", f"This is {what}. Upload JPEG, PNG, WebP or HEIC photos."
        )
    try:
        # From the header only: a picture declaring too many pixels is never decoded.
        pixel_check(file)
    except ImageRejected as rejection:
        return UploadRefusal(name, rejection.code, rejection.message)
    return None


def _count_check(*, current: int | None, adding: int, closing: Iterable = ()) -> None:
    """Refuse the whole upload when the dataset has no room for all of its photos.

    Checked while files are read (against an empty dataset: nothing more is read once even
    that is exceeded) and again under the dataset's lock with its real count.
    """
    held = current or 0
    if held + adding <= MAX_IMAGES:
        return
    for _, file, _ in closing:
        file.close()
    room = max(MAX_IMAGES - held, 0)
    if current is None:
        message = (
            f"A dataset holds at most {MAX_IMAGES} photos and this upload has more, so nothing "
            f"was added. Upload at most {MAX_IMAGES} at once."
        )
    else:
        message = (
            f"A dataset holds at most {MAX_IMAGES} photos. It has {held} and this upload has "
            f"{adding}, so nothing was added. Upload at most {room} more"
            + (", or delete some first." if room < adding else ".")
        )
    raise DomainError(message, code="too_many_images", field="files")


def _store(
    *, dataset: Dataset, accepted: list[tuple[str, File, str]], refused: list[UploadRefusal]
) -> UploadResult:
    from ..tasks import dataset_image_process_task  # the tasks module imports the services

    if not accepted:
        return UploadResult(added=[], refused=refused)
    # Inside a caller's transaction, the files are written when that one commits: maybe after
    # the request has closed (and deleted) its uploaded files, so copies of our own wait.
    nested = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic():
            # Lock the dataset so two uploads at once cannot pass the count together.
            Dataset.objects.select_for_update().filter(pk=dataset.pk).first()
            # New photos in a dataset emptied by retention: it holds photos again.
            Dataset.objects.filter(pk=dataset.pk).update(photos_deleted_at=None)
            current = dataset.images.exclude(status=DatasetImage.Status.REJECTED).count()
            _count_check(current=current, adding=len(accepted))
            quota_check(
                user=dataset.owner,
                kind="storage_bytes",
                amount=sum(file.size for _, file, _ in accepted),
            )
            pending: list[tuple[DatasetImage, File]] = []
            for name, file, caption in accepted:
                image = DatasetImage(
                    dataset=dataset,
                    original_name=name[:255],
                    caption=_caption_clean(caption),
                    size_bytes=file.size,
                )
                image.upload.name = f"{_folder(dataset)}/uploads/{image.id}"
                image.save()
                pending.append((image, _kept(file) if nested else file))
            # The files are written once these rows are committed, then each is processed (the
            # callbacks run in this order). A rollback drops both callbacks: nothing was written.
            transaction.on_commit(functools.partial(_uploads_write, pending))
            for image, _ in pending:
                dataset_image_process_task.delay_on_commit(str(image.id))
    except BaseException:
        for _, file, _ in accepted:
            file.close()
        raise
    return UploadResult(added=[image for image, _ in pending], refused=refused)


def _kept(file: File) -> File:
    """A file that outlives the request: ours already (a zip entry), or a spooled copy."""
    if isinstance(file.file, tempfile.SpooledTemporaryFile):
        return file
    spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES)  # noqa: SIM115 (closed when stored)
    file.seek(0)
    shutil.copyfileobj(file, spool, _SPOOL_BYTES)
    spool.seek(0)
    file.close()
    return File(spool, name=file.name)


def _uploads_write(pending: list[tuple[DatasetImage, File]]) -> None:
    """After commit: write each upload where its row says; one that fails is marked rejected."""
    for image, file in pending:
        try:
            file.seek(0)
            stored = default_storage.save(image.upload.name, file)
        except Exception:
            logger.exception("upload of dataset image %s could not be stored", image.pk)
            DatasetImage.objects.filter(pk=image.pk, status=DatasetImage.Status.PENDING).update(
                status=DatasetImage.Status.REJECTED,
                rejection_code="upload_failed",
                rejection_message="The photo could not be stored. Please upload it again.",
                upload="",
                size_bytes=0,
            )
            continue
        finally:
            file.close()
        if stored != image.upload.name:  # the storage chose another name
            DatasetImage.objects.filter(pk=image.pk).update(upload=stored)
            image.upload.name = stored


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
            result = normalise_image(
                upload,
                long_side=image.dataset.target_size,
                find_faces=image.dataset.face_consent_at is not None,
            )
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
        if not dataset_image_faces_store(image_id=image.pk, faces=result.faces):
            dataset_image_faces_catch_up(image_id=image.pk)
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
