"""Real photographs of several different people, for the face identity tests and benchmarks.

The owner is the astronaut that scikit-image ships (Eileen Collins; tests/photos.py). The
strangers are the six people of `insightface/data/images/t1.jpg`, a group photo inside the
`insightface` wheel on PyPI. The wheel's metadata says its code is under the MIT licence; it
states no separate licence for this picture. So the picture is never committed: at test time
the published wheel is downloaded once (pip, no dependencies) into var/test-data/ and the
picture read from it.
"""

from __future__ import annotations

import functools
import io
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from PIL import Image, ImageOps

from tests.photos import close_up, half_body, source

INSIGHTFACE_WHEEL = "insightface==2.1"
GROUP_PHOTO = "insightface/data/images/t1.jpg"
CACHE = Path(os.environ.get("TEST_DATA_DIR", Path(__file__).resolve().parents[1] / "var/test-data"))


def _download_group_photo() -> Path:
    target = CACHE / "t1.jpg"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as folder:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             "--disable-pip-version-check", "--only-binary", ":all:", INSIGHTFACE_WHEEL,
             "-d", folder],
            check=True,
        )  # fmt: skip
        (wheel,) = Path(folder).glob("insightface-*.whl")
        data = zipfile.ZipFile(wheel).read(GROUP_PHOTO)
        partial = Path(folder) / "t1.jpg"
        partial.write_bytes(data)
        os.replace(partial, target)  # atomic: two test processes may fetch it at once
    return target


@functools.cache
def group_photo() -> Image.Image:
    """Six different people side by side (1280 x 886)."""
    picture = Image.open(_download_group_photo())
    picture.load()
    return picture.convert("RGB")


@functools.cache
def stranger(index: int, size: int = 640) -> Image.Image:
    """A head-and-shoulders photo of one of the six people (0-5), cut from the group photo."""
    from likeness.faces import faces_find

    faces = sorted(faces_find(group_photo(), upsample=1), key=lambda face: face.box[0])
    left, top, right, bottom = faces[index].box
    side = (right - left) * 2.6  # room around the face, as in a portrait
    cx, cy = (left + right) / 2, (top + bottom) / 2 + (bottom - top) * 0.3
    box = (cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2)
    crop = group_photo().crop(tuple(round(v) for v in box))
    return crop.resize((size, size), Image.LANCZOS)


def owner(index: int = 0, size: int = 640) -> Image.Image:
    """A photo of the owner (the astronaut): a few framings and crops of her photograph."""
    variants = [
        lambda: close_up(size),
        lambda: half_body(size),
        lambda: source("astronaut").resize((size, size), Image.LANCZOS),
        lambda: source("astronaut").crop((60, 0, 452, 392)).resize((size, size), Image.LANCZOS),
        lambda: source("astronaut").crop((100, 20, 380, 300)).resize((size, size), Image.LANCZOS),
    ]
    return variants[index % len(variants)]()


def mirrored(picture: Image.Image) -> Image.Image:
    return ImageOps.mirror(picture)


def jpeg_bytes(picture: Image.Image, quality: int = 90) -> bytes:
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()
