"""Whether a consent selfie shows the person now: a selfie that is a copy of one of the
dataset's photos (resized, recompressed or mirrored), or whose camera dated it more than
SELFIE_MAX_AGE ago, proves nothing about who is asking, so it never matches automatically:
the training waits for a moderator, who is told why, and so is the owner.

Neither check looks at faces: the copy is found with the perceptual hashes the dataset's
duplicate check uses (trainings.quality), the date from the upload's EXIF, read before the
upload is re-encoded (which drops it). A camera in the web page (getUserMedia) writes no EXIF:
no date is not a reason to doubt a selfie.
"""

from __future__ import annotations

import io
import logging
from datetime import UTC, datetime, timedelta

from django.core.files.storage import default_storage
from PIL import ExifTags, Image

logger = logging.getLogger(__name__)

SELFIE_MAX_AGE = timedelta(hours=24)
# An EXIF date is usually local time without its offset (UTC-12 to UTC+14), read here as UTC:
# the bound gets the 12 hours it could be later than that, so a selfie taken now is never
# called old.
_UNKNOWN_OFFSET_SLACK = timedelta(hours=12)
_EXIF_DATE = "%Y:%m:%d %H:%M:%S"

WHY_COPY = "your selfie is a copy of one of your dataset photos, not a photo taken now."


def selfie_capture_time(data: bytes) -> datetime | None:
    """When the camera says the picture was taken (EXIF DateTimeOriginal; with its offset when
    written, else the local time read as UTC), or None when it does not say or cannot be read."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            exif = picture.getexif().get_ifd(ExifTags.IFD.Exif)
        written = exif.get(ExifTags.Base.DateTimeOriginal)
        if not isinstance(written, str):
            return None
        written = written.strip("\x00 ")[:19]
        offset = exif.get(ExifTags.Base.OffsetTimeOriginal)
        offset = offset.strip("\x00 ") if isinstance(offset, str) else ""
        if offset:
            return datetime.strptime(f"{written} {offset}", f"{_EXIF_DATE} %z").astimezone(UTC)
        return datetime.strptime(written, _EXIF_DATE).replace(tzinfo=UTC)
    except Exception:  # a malformed EXIF block: as if there were none
        logger.info("selfie EXIF date could not be read", exc_info=True)
        return None


def selfie_too_old_reason(*, captured_at: datetime | None, taken_at: datetime) -> str:
    """Why the selfie cannot be from now, or "" when its date (if any) is recent enough."""
    if captured_at is None or captured_at + _UNKNOWN_OFFSET_SLACK >= taken_at - SELFIE_MAX_AGE:
        return ""
    day = captured_at.date()
    return f"your selfie was taken on {day.day} {day:%B %Y}, not now."


def selfie_copies_a_photo(*, selfie_name: str, dataset) -> bool:
    """Whether the stored selfie is a near-copy (or mirror image) of a ready photo of `dataset`,
    by the perceptual hashes and the distance the dataset's duplicate check uses."""
    from trainings.quality import (  # trainings imports likeness
        DUPLICATE_MAX_DISTANCE,
        ImageMeasurements,
        hamming,
        image_phash,
    )

    with default_storage.open(selfie_name, "rb") as stored, Image.open(stored) as picture:
        selfie_hash = image_phash(picture)
    for measured in dataset.images.filter(status="ready").values_list("measurements", flat=True):
        if not measured or "phash" not in measured:
            continue  # not measured yet: nothing to compare with
        photo = ImageMeasurements.from_dict(measured)
        hashes = (photo.phash, photo.phash_mirrored)
        if any(h is not None and hamming(selfie_hash, h) <= DUPLICATE_MAX_DISTANCE for h in hashes):
            return True
    return False
