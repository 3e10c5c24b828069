"""How much memory a picture may make a process hold: the pixel limit and one decode at a time.

Decoding costs memory by pixels, not by bytes: a 172 KB PNG can declare 7500 × 7900 pixels and
take half a gigabyte to decode. So every picture is checked from its header (Pillow's
`Image.open` reads only the header; `load()` decodes) against `IMAGE_MAX_PIXELS`, which
settings derive from the memory one decode may cost, and a process decodes at most
`IMAGE_DECODES_AT_ONCE` pictures at a time, whatever its threads. A worker then holds at most
WORKER_CONCURRENCY × IMAGE_DECODES_AT_ONCE × (IMAGE_MAX_PIXELS × IMAGE_DECODE_BYTES_PER_PIXEL)
for pictures; a web process (init images and masks) the same without the first factor.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from django.conf import settings
from PIL import Image

from .exceptions import DomainError

# Pillow's own check, for every decode in the process (the moderation classifier's too): above
# the limit it warns (our code turns that into a refusal), above twice the limit it refuses.
Image.MAX_IMAGE_PIXELS = settings.IMAGE_MAX_PIXELS

_decode_slots = threading.BoundedSemaphore(max(1, settings.IMAGE_DECODES_AT_ONCE))


class ImageDecodeBusy(DomainError):
    """Every decode slot of this process stayed taken: try again shortly."""

    status_code = 503
    code = "busy"


def image_max_pixels() -> int:
    return settings.IMAGE_MAX_PIXELS


def image_too_many_pixels_message(size: tuple[int, int], max_pixels: int, noun: str) -> str:
    width, height = size
    return (
        f"The {noun} is {width} × {height} pixels ({width * height / 1e6:.0f} megapixels); "
        f"{noun}s can have at most {max_pixels // 1_000_000} megapixels."
    )


@contextlib.contextmanager
def image_decode_slot() -> Iterator[None]:
    """Hold one of this process's decode slots while decoding and transforming a picture."""
    if not _decode_slots.acquire(timeout=settings.IMAGE_DECODE_WAIT_SECONDS):
        raise ImageDecodeBusy(
            "Too many pictures are being processed right now. Please try again in a moment."
        )
    try:
        yield
    finally:
        _decode_slots.release()
