"""A person's photo set for end-to-end tests: 15 different photos of one face.

Built from scikit-image's astronaut portrait (the one real face it ships): her head and
shoulders pasted at close-up, half-body and full-body scales onto different real scenes,
mirrored and shifted, so that no two photos are near duplicates of each other.
"""

from __future__ import annotations

import io

from PIL import Image, ImageOps

from tests.photos import source, upscale

# (face height / frame height wanted, scene, mirrored)
_BACKGROUNDS = ("coffee", "rocket", "chelsea", "retina", "immunohistochemistry", "astronaut")
_LAYOUT = [
    *[(0.26 + 0.02 * (i % 4), _BACKGROUNDS[i % 6], i % 2 == 1) for i in range(9)],
    *[(0.17, _BACKGROUNDS[(i + 2) % 6], i % 2 == 0) for i in range(4)],
    *[(0.08, _BACKGROUNDS[(i + 4) % 6], i % 2 == 1) for i in range(2)],
]
_HEAD = (120, 20, 390, 360)  # the astronaut's head and shoulders in the 512 px photo


def portrait(index: int, size: tuple[int, int] = (768, 960)) -> Image.Image:
    ratio, scene_name, mirrored = _LAYOUT[index % len(_LAYOUT)]
    width, height = size
    background = source(scene_name)
    if index % 4 >= 2:
        background = ImageOps.flip(background)
    background = upscale(background, size, seed=200 + index)
    head = source("astronaut").crop(_HEAD)
    # The face is about 92 of the head crop's 340 rows.
    scale = ratio * height / 92
    head = head.resize((round(head.width * scale), round(head.height * scale)))
    if mirrored:
        head = ImageOps.mirror(head)
    # A slight tilt of the head, different in every photo, as people hold it.
    head = head.rotate((index % 5 - 2) * 6, resample=Image.Resampling.BICUBIC, expand=False)
    # Left, middle or right third, so the photos differ in layout as well as in scene.
    left = [0, (width - head.width) // 2, width - head.width][index % 3]
    top = max(0, round(height * (0.04 + 0.08 * (index % 3))))
    background.paste(head, (max(0, left), top))
    return background


def portrait_jpegs(count: int = 15) -> list[tuple[str, bytes]]:
    photos = []
    for index in range(count):
        buffer = io.BytesIO()
        portrait(index).save(buffer, "JPEG", quality=90)
        photos.append((f"me-{index:02d}.jpg", buffer.getvalue()))
    return photos
