"""Normalisation of an uploaded photo into the training copy and its thumbnail.

The upload is decoded for real: the file name and the content type the client sent mean
nothing. Only JPEG, PNG, WebP and HEIC/HEIF are accepted. The result has no metadata at all (no
EXIF, so no GPS; no XMP; colours converted to sRGB), is upright (EXIF orientation applied), RGB,
and no larger than the training size; it never upscales.

Training copy: JPEG, quality 92, 4:4:4 chroma. A PNG of a 1024 px photo is 4-6 times larger
for no visible gain: the source was already lossy (a phone JPEG or HEIC), and the trainer
resizes every photo and encodes it with the FLUX VAE, which loses far more than quality 92 does.
Smaller copies mean a smaller training zip to upload to Replicate for every run.
Thumbnail: WebP, 384 px on the longer side, for the dataset pages.

Every refusal is an `ImageRejected` with a code and a message a person can act on; hostile
input (garbage, truncated files, huge dimensions in a header, compressed text bombs) is refused,
never a crash and never a large allocation.
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import warnings
from dataclasses import dataclass, replace
from typing import BinaryIO

import cv2
import numpy as np
import pillow_heif
from django.conf import settings
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from core.exceptions import DomainError
from core.limits import image_decode_slot
from likeness.faces import Face, faces_find
from trainings.quality import ImageMeasurements, measure_image

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

MAX_UPLOAD_BYTES = 25 * 1024 * 1024
# The pixel limit comes from memory (settings.IMAGE_MAX_PIXELS: what one decode may cost, see
# core.limits); about 40 MP by default, more than any phone camera writes in normal mode (48-50
# MP sensors write 12 MP unless asked). A picture over it is refused from its header, before it
# is decoded. MAX_PIXELS is the limit when this module was imported; calls read the setting.
MAX_PIXELS = settings.IMAGE_MAX_PIXELS
MIN_SHORT_SIDE = 512
TRAINING_LONG_SIDE = 1024
THUMBNAIL_LONG_SIDE = 384
TRAINING_JPEG_QUALITY = 92
THUMBNAIL_WEBP_QUALITY = 80
# libwebp's effort (0-6): 2 encodes a thumbnail in half the time of 4 for 3 % more bytes
# (15.8 KB against 15.3 KB at 384 px on the benchmark's photos).
THUMBNAIL_WEBP_METHOD = 2
# A JPEG may be decoded at a scale that falls this much under the training size, then brought
# up to it: a 12 MP phone photo (4000-4080 px wide) bound for 1024 px decodes at 1/4 scale
# (1000-1020 px) instead of 1/2 (2000 px), a third of the decoding and resizing time. Against
# a full decode + Lanczos on bench/preprocess.py's photos: SSIM 0.996 (lowest 0.992) and 82 %
# of the fine detail (Laplacian variance at 1024 px; 91 % at the 512 px the blur score uses),
# where 1/2 scale + Lanczos gives 0.998 and 96 %, and 1/2 + bicubic 0.998 and 85 %. Only down
# to 1/4: libjpeg's 1/8 scale keeps one value per 8 x 8 block (SSIM as low as 0.97). 0 turns
# this off.
DRAFT_SHORTFALL = 0.03
_DRAFT_SHORTFALL_MAX_SCALE = 4

# Pillow format names that may open an upload. The JPEG opener may return an "MPO": a phone JPEG
# that carries extra pictures (depth map, gain map); its first picture is an ordinary JPEG.
_PILLOW_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
_FORMAT_NAMES = {"JPEG": "JPEG", "MPO": "JPEG", "PNG": "PNG", "WEBP": "WEBP", "HEIF": "HEIF"}
ACCEPTED = "JPEG, PNG, WebP or HEIC"

_GPS_IFD = ExifTags.IFD.GPSInfo
_SRGB = ImageCms.createProfile("sRGB")


class ImageRejected(DomainError):
    """An upload that cannot be used as a training photo; `message` tells the person why."""

    code = "image_rejected"

    def __init__(self, code: str, message: str):
        super().__init__(message, code=code)

    def __repr__(self) -> str:
        return f"ImageRejected({self.code!r}, {self.message!r})"


@dataclass(frozen=True)
class NormalisedImage:
    training: bytes  # JPEG
    training_size: tuple[int, int]
    thumbnail: bytes  # WebP
    thumbnail_size: tuple[int, int]
    original_format: str  # "JPEG", "PNG", "WEBP" or "HEIF"
    original_size: tuple[int, int]  # as displayed, after EXIF orientation
    original_bytes: int
    orientation: int  # the EXIF orientation that was applied (1: none)
    had_location: bool  # the upload carried GPS tags (now removed)
    sha256: str  # of the upload as received
    measurements: ImageMeasurements | None
    # The faces of the training copy (likeness.faces), largest first; None when they were not
    # looked for (no consent) or could not be computed.
    faces: list[Face] | None = None

    training_content_type = "image/jpeg"
    training_extension = "jpg"
    thumbnail_content_type = "image/webp"
    thumbnail_extension = "webp"


def normalise_image(
    upload: bytes | bytearray | memoryview | BinaryIO,
    *,
    long_side: int = TRAINING_LONG_SIDE,
    thumbnail_long_side: int = THUMBNAIL_LONG_SIDE,
    measure: bool = True,
    max_bytes: int = MAX_UPLOAD_BYTES,
    max_pixels: int | None = None,
    min_short_side: int = MIN_SHORT_SIDE,
    find_faces: bool = False,
) -> NormalisedImage:
    """Decode an upload, check it, and return its training copy, thumbnail and measurements.

    With `find_faces` (only for a dataset whose owner consented), also the faces of the
    training copy, from the pixels already decoded.

    Raises ImageRejected for anything that cannot be used. `max_pixels` defaults to the
    IMAGE_MAX_PIXELS setting; the decode holds one of the process's decode slots.
    """
    if long_side < 64 or thumbnail_long_side < 16:
        raise ValueError("long_side and thumbnail_long_side are too small")
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    data = _read_capped(upload, max_bytes)
    with warnings.catch_warnings(), image_decode_slot():
        # Pillow warns between its limit (core.limits sets it to ours) and twice it, then
        # refuses: the warning is silenced because the check below refuses the same pictures,
        # naming their size. (The filter is process-wide and not thread-safe; nothing depends
        # on it.)
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = _open(data)
            try:
                result, rgb = _normalise(
                    image,
                    data,
                    long_side=long_side,
                    thumbnail_long_side=thumbnail_long_side,
                    max_pixels=max_pixels,
                    min_short_side=min_short_side,
                )
            finally:
                image.close()
        except ImageRejected:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as error:
            raise ImageRejected("too_many_pixels", _too_many_pixels(None, max_pixels)) from error
        except MemoryError as error:
            raise ImageRejected(
                "too_many_pixels", "The image is too large to process. Please upload a smaller one."
            ) from error
        except Exception as error:
            # Decoders raise OSError, ValueError, SyntaxError, EOFError, struct.error... on
            # hostile input; whatever it is, the file cannot be read.
            logger.info("image refused as unreadable: %s: %s", type(error).__name__, error)
            raise ImageRejected("unreadable", _unreadable_message(data)) from error
    # Outside the guard above: a failure here is ours, not the upload's, and must not be
    # reported to the person as an unreadable file.
    if measure:
        result = replace(result, measurements=measure_image(rgb))
    if find_faces:
        result = replace(result, faces=faces_of(rgb))
    return result


def faces_of(picture: Image.Image) -> list[Face] | None:
    """The faces in a training copy, or None when dlib fails: a photo is never refused for
    that (it is logged, and the identity checks treat the photo as not looked at)."""
    try:
        # At the detector's own scale, faces under about 80 px are missed: the small face of a
        # full-body shot, the people at the back of a group. Twice the scale finds them, at
        # about four times the cost, so only where the first look was not conclusive.
        return faces_find(picture, retry_upsample=1)
    except Exception:
        logger.exception("faces could not be computed")
        return None


def _read_capped(upload: bytes | bytearray | memoryview | BinaryIO, max_bytes: int) -> bytes:
    if isinstance(upload, bytes | bytearray | memoryview):
        data = bytes(upload)
    else:
        data = upload.read(max_bytes + 1)
    if not data:
        raise ImageRejected("empty", "The file is empty. Please choose a photo.")
    if len(data) > max_bytes:
        limit = max_bytes / (1024 * 1024)
        raise ImageRejected(
            "file_too_large",
            f"The file is larger than {limit:.0f} MB. Please upload a smaller photo "
            "(a photo straight from a phone is usually 2 to 8 MB).",
        )
    return data


def pixel_check(data: bytes | BinaryIO, *, max_pixels: int | None = None) -> None:
    """Refuse a picture whose header declares more pixels than the limit, without decoding it.

    For the upload itself (the web process): only the header is read, so a few hundred bytes
    declaring 20000 × 20000 cost nothing; a stream is left where it was. A file no decoder
    recognises passes: normalisation decides about it and says why.
    """
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    stream = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
    position = stream.tell()
    # Pillow's own warning (over its limit, which is ours) is silenced: the check below
    # refuses the same pictures, naming their size.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(stream, formats=_PILLOW_FORMATS) as image:
                size = image.size
        except Image.DecompressionBombError as error:  # over twice the limit
            raise ImageRejected("too_many_pixels", _too_many_pixels(None, max_pixels)) from error
        except Exception:  # unreadable: normalisation refuses it with the right message
            return
        finally:
            stream.seek(position)
    if size[0] * size[1] > max_pixels:
        raise ImageRejected("too_many_pixels", _too_many_pixels(size, max_pixels))


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> str:
    limit = f"photos can have at most {max_pixels // 1_000_000} megapixels."
    if size is None:
        return f"The image is too large to process; {limit}"
    width, height = size
    return (
        f"The image is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); {limit}"
    )


def _open(data: bytes) -> Image.Image:
    try:
        return Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS)
    except UnidentifiedImageError:
        pass
    other = sniff_format(data)
    if other in _ACCEPTED_SNIFFED:
        # The signature of an accepted format, but no decoder could make sense of it.
        raise ImageRejected("unreadable", _unreadable_message(data))
    if other is not None:
        raise ImageRejected(
            "unsupported_format",
            f"{other} files are not accepted. Please upload a {ACCEPTED} photo.",
        )
    raise ImageRejected(
        "not_an_image", f"This file is not a photo we can read. Please upload a {ACCEPTED} photo."
    )


def _normalise(
    image: Image.Image,
    data: bytes,
    *,
    long_side: int,
    thumbnail_long_side: int,
    max_pixels: int,
    min_short_side: int,
) -> tuple[NormalisedImage, Image.Image]:
    width, height = image.size  # from the header: nothing is decoded yet
    if width * height > max_pixels:
        raise ImageRejected("too_many_pixels", _too_many_pixels((width, height), max_pixels))
    if min(width, height) < min_short_side:
        raise ImageRejected(
            "too_small",
            f"The photo is {width} × {height} pixels; its shorter side must be at least "
            f"{min_short_side} pixels. Use the original photo, not a thumbnail or a screenshot.",
        )
    original_format = _FORMAT_NAMES[image.format or ""]
    orientation, had_location = _read_exif(image)
    icc = image.info.get("icc_profile")

    target = _fit((width, height), long_side)
    if original_format == "JPEG" and target != (width, height):
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale, less work and memory than the full size.
        image.draft("RGB", _draft_size((width, height), target))
    image.load()
    # In place: a copy of the pixels is made only when they must turn (ImageOps would copy an
    # upright picture too, a full second decode's worth of memory).
    decoded_size = image.size  # smaller than the header's after a draft decode
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except Exception:  # a malformed EXIF block: keep the pixels as they are
        logger.info("EXIF orientation could not be applied", exc_info=True)
        orientation = 1
    swapped = image.size != decoded_size
    upright_size = (height, width) if swapped else (width, height)
    rgb = _to_rgb(image)
    if rgb is not image:
        image.close()  # the decoded pixels are no longer needed: free them before resizing

    # Against the upright original, not the decoded copy: a draft a little under the target is
    # brought up to it, so the training copy's size does not depend on the decoder's scale.
    size = _fit(upright_size, long_side)
    if size != rgb.size:
        rgb = _resized(rgb, size)
    rgb = _to_srgb(rgb, icc)
    if rgb is image:  # not resized, so small: a copy outlives the caller closing `image`
        rgb = image.copy()
    rgb.info.clear()  # nothing of the upload's metadata may reach the outputs

    # No optimize=True: Pillow then sizes its output buffer at one byte per pixel, which a noisy
    # (e.g. dithered) picture at quality 92 exceeds, and the save fails. It saved only ~4 %.
    training = _encode(rgb, "JPEG", quality=TRAINING_JPEG_QUALITY, subsampling=0)
    # reducing_gap=1: a 2x box reduction, then Lanczos over the rest; half the time of Lanczos
    # alone from 1024 px, and the same picture at 384 px (SSIM 0.997 against it).
    thumb = rgb.resize(
        _fit(rgb.size, thumbnail_long_side), Image.Resampling.LANCZOS, reducing_gap=1.0
    )
    thumbnail = _encode(thumb, "WEBP", quality=THUMBNAIL_WEBP_QUALITY, method=THUMBNAIL_WEBP_METHOD)

    result = NormalisedImage(
        training=training,
        training_size=rgb.size,
        thumbnail=thumbnail,
        thumbnail_size=thumb.size,
        original_format=original_format,
        original_size=upright_size,
        original_bytes=len(data),
        orientation=orientation,
        had_location=had_location,
        sha256=hashlib.sha256(data).hexdigest(),
        measurements=None,
    )
    return result, rgb


def _draft_size(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The size to ask libjpeg's draft for: the target, or up to DRAFT_SHORTFALL less of it when
    that lets it decode at 1/4 scale instead of 1/2 (Pillow's rule: the largest of 1/2, 1/4,
    1/8 that still gives at least the size asked)."""
    looser = tuple(max(1, math.ceil(side * (1 - DRAFT_SHORTFALL))) for side in target)
    most = min(size[0] // looser[0], size[1] // looser[1])
    scale = next((scale for scale in (8, 4, 2, 1) if most >= scale), 1)
    return looser if scale <= _DRAFT_SHORTFALL_MAX_SCALE else target


def _resized(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    if size[0] > image.width and image.mode == "RGB":
        # A draft a few per cent under the target: OpenCV's bicubic brings it up in a quarter of
        # the time of Pillow's Lanczos (which has no SIMD), for the same SSIM to a full decode.
        return Image.fromarray(cv2.resize(np.asarray(image), size, interpolation=cv2.INTER_CUBIC))
    # reducing_gap: a fast integer box reduction first, then Lanczos over the last 3x.
    return image.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def _read_exif(image: Image.Image) -> tuple[int, bool]:
    """The EXIF orientation (1 when absent or invalid) and whether a GPS block is present.

    A malformed EXIF block is not a reason to refuse a photo: it is dropped with the rest.
    """
    try:
        exif = image.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
        # pillow-heif applies a HEIC's rotation while decoding and records what it was.
        orientation = int(image.info.get("original_orientation") or orientation)
        had_location = _GPS_IFD in exif or bool(exif.get_ifd(_GPS_IFD))
    except Exception:
        logger.info("EXIF could not be read", exc_info=True)
        return 1, False
    return orientation, had_location


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """`size` scaled down so its longer side is `long_side`; never scaled up."""
    width, height = size
    scale = long_side / max(width, height)
    if scale >= 1:
        return size
    return max(1, math.floor(width * scale + 0.5)), max(1, math.floor(height * scale + 0.5))


def _to_rgb(image: Image.Image) -> Image.Image:
    """RGB, with any transparency flattened onto white (transparent pixels are not black)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        # 16-bit and float greys: scale into 8 bits instead of clipping everything to white.
        extrema = image.getextrema()
        top = max(1.0, float(extrema[1])) if isinstance(extrema[1], int | float) else 65535.0
        image = image.convert("F").point(lambda v: v * 255.0 / top).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )
    if has_alpha:
        rgba = image if image.mode == "RGBA" else image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode == "CMYK":
        # Kept as CMYK when it has a profile: the ICC conversion to sRGB is far more faithful.
        return image if image.info.get("icc_profile") else image.convert("RGB")
    if image.mode != "RGB":
        return image.convert("RGB")
    return image


def _to_srgb(image: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert colours from the upload's ICC profile (e.g. Display P3 from an iPhone) to sRGB."""
    if icc:
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(image, profile, _SRGB, outputMode="RGB")
            if converted is not None:
                image = converted
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as error:
            # A broken or unusual profile: the colours are kept as they are, the profile dropped.
            logger.info("ICC profile ignored: %s", error)
    return image if image.mode == "RGB" else image.convert("RGB")


def _encode(image: Image.Image, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format, **options)
    return buffer.getvalue()


# --- recognising files we refuse, to say what they are -----------------------------------------

_ACCEPTED_SNIFFED = {"JPEG", "PNG", "WebP", "HEIC"}


def sniff_format(data: bytes) -> str | None:
    """The kind of file from its first bytes, for messages only (decoding decides acceptance)."""
    head = data[:64]
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "WebP"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"avif", b"avis"):
            return "AVIF"
        if brand in (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"):
            return "HEIC"
        if brand == b"crx ":
            return "Canon RAW"
        if brand in (b"qt  ", b"isom", b"mp41", b"mp42", b"M4V "):
            return "Video"
        return None
    for signature, name in _SIGNATURES:
        if head.startswith(signature):
            return name
    stripped = head.lstrip()
    if stripped.startswith((b"<svg", b"<?xml")):
        return "SVG"
    return None


_SIGNATURES = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"BM", "BMP"),
    (b"\x00\x00\x01\x00", "ICO"),
    (b"8BPS", "Photoshop"),
    (b"%PDF", "PDF"),
    (b"\x00\x00\x00\x0cjP  ", "JPEG 2000"),
    (b"\xff\x4f\xff\x51", "JPEG 2000"),
    (b"\xff\x0a", "JPEG XL"),
    (b"\x00\x00\x00\x0cJXL ", "JPEG XL"),
    (b"qoif", "QOI"),
    (b"PK\x03\x04", "Zip"),
)


def _unreadable_message(data: bytes) -> str:
    kind = sniff_format(data)
    start = (
        f"The file looks like a {kind} image but is" if kind in _ACCEPTED_SNIFFED else "The file is"
    )
    return (
        f"{start} damaged or incomplete, so it cannot be read. "
        "Upload it again, or choose another photo."
    )
