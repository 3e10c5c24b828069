"""A picture downloaded as JPEG, PNG or WebP, converted from the stored original on request, and
the smaller JPEG that link previews (Open Graph) show.

Converted files are made when asked for, not stored: the originals are a few megapixels, the
conversion holds one of the process's decode slots (core.limits), and the viewer's browser may
keep the result for CACHE_SECONDS. Who may download is the caller's check
(selectors.image_for_viewer), as for the stored files (gallery.media).
"""

from __future__ import annotations

import re

from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils.text import slugify

from core.exceptions import DomainError

from . import imaging
from .media import CACHE_SECONDS
from .models import GeneratedImage

MEDIA_TYPES = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}
FORMAT_NAMES = "JPEG, PNG or WebP"
_SLUG_LENGTH = 40


class UnknownDownloadFormat(DomainError):
    code = "unsupported_format"


def download_format_parse(value: str, *, field: str = "format") -> str:
    """The file extension of a format a person asked for (`jpeg`, `png`, `webp`; any case)."""
    output_format = imaging.DOWNLOAD_FORMATS.get((value or "").strip().lower())
    if output_format is None:
        raise UnknownDownloadFormat(
            f"Unknown download format “{value[:20]}”: choose {FORMAT_NAMES}.", field=field
        )
    return output_format


def download_filename(image: GeneratedImage, *, output_format: str) -> str:
    """What the file is: the prompt's first words (or the model's name), and a short id."""
    generation = image.generation
    words = generation.prompt or ""
    lora_model = generation.lora_model
    if lora_model is not None and lora_model.trigger_word:
        # The trigger word is the key to someone's likeness: it stays out of file names.
        words = re.sub(re.escape(lora_model.trigger_word), " ", words, flags=re.IGNORECASE)
    slug = slugify(words)[:_SLUG_LENGTH].strip("-")
    if not slug and lora_model is not None:
        slug = slugify(lora_model.name)[:_SLUG_LENGTH].strip("-")
    return f"{slug or 'picture'}-{image.id.hex[:8]}.{output_format}"


def _stored_bytes(image: GeneratedImage) -> bytes:
    with default_storage.open(image.file.name, "rb") as handle:
        return handle.read()


def _private_response(content: bytes, *, output_format: str) -> HttpResponse:
    response = HttpResponse(content, content_type=MEDIA_TYPES[output_format])
    response["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def image_download_response(image: GeneratedImage, *, output_format: str) -> HttpResponse:
    """The picture as an attachment in `output_format` (jpg, png or webp), without metadata
    but its colour profile and the AI-generated mark."""
    content = imaging.image_convert(_stored_bytes(image), output_format=output_format)
    response = _private_response(content, output_format=output_format)
    filename = download_filename(image, output_format=output_format)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def image_preview_response(image: GeneratedImage) -> HttpResponse:
    """A JPEG of at most PREVIEW_LONG_SIDE pixels for link previews (every messenger reads
    JPEG; not all read WebP)."""
    content = imaging.image_convert(
        _stored_bytes(image), output_format="jpg", long_side=imaging.PREVIEW_LONG_SIDE
    )
    return _private_response(content, output_format="jpg")


def preview_size(image: GeneratedImage) -> tuple[int, int]:
    """The preview's width and height (for og:image:width / og:image:height)."""
    long_side = imaging.PREVIEW_LONG_SIDE
    width, height = image.width, image.height
    if max(width, height) <= long_side:
        return width, height
    scale = long_side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))
