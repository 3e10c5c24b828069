"""Faces and who they are, computed here and never sent anywhere.

dlib's frontal face detector (HOG) finds faces, its 5-point shape predictor aligns them and its
ResNet face recognition model turns each into 128 numbers; two faces of one person are close
(Euclidean distance under about 0.6), two people are far apart. The models ship in the
`face_recognition_models` wheel and run offline on the CPU.

Face vectors are biometric data: they are computed only for a dataset whose owner agreed to it,
kept with the photo, and deleted with it (see README, "Likeness").
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from PIL import Image

# Two faces closer than this are taken for one person (dlib's own threshold).
SAME_PERSON_DISTANCE = 0.6
# Faces are looked for on a copy at most this many pixels on its longer side: dlib's HOG
# detector finds faces from about 80 px wide, and its cost grows with the area.
DETECT_MAX_SIDE = 800
# Smaller than this share of the picture's shorter side, a face is too small to tell anyone by.
MIN_FACE_SHARE = 0.06

Box = tuple[int, int, int, int]  # left, top, right, bottom

_lock = threading.Lock()  # dlib's objects are not documented as thread-safe


def box_area(box: Box) -> int:
    left, top, right, bottom = box
    return max(0, right - left) * max(0, bottom - top)


@dataclass(frozen=True)
class Face:
    """One face: where it is in the picture (left, top, right, bottom, in the picture's own
    pixels) and its 128-number description."""

    box: tuple[int, int, int, int]
    vector: tuple[float, ...]

    @property
    def area(self) -> int:
        return box_area(self.box)

    def as_json(self) -> dict:
        return {"box": list(self.box), "vector": [round(value, 6) for value in self.vector]}

    @classmethod
    def from_json(cls, data: dict) -> Face:
        return cls(box=tuple(int(v) for v in data["box"]), vector=tuple(data["vector"]))


@lru_cache(maxsize=1)
def _models():
    import dlib  # imported late: a process that never looks at faces does not load it
    import face_recognition_models as files

    return (
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(files.pose_predictor_five_point_model_location()),
        dlib.face_recognition_model_v1(files.face_recognition_model_location()),
    )


def _detect(
    picture: Image.Image, upsample: int, retry_upsample: int | None
) -> tuple[np.ndarray, list[tuple[Box, Any]]]:
    """The pixels faces are looked for in, and the usable faces dlib finds there (call with
    `_lock` held)."""
    rgb = picture.convert("RGB")
    scale = min(1.0, DETECT_MAX_SIDE / max(rgb.size))
    small = (
        rgb
        if scale == 1.0
        else rgb.resize(
            (max(1, round(rgb.width * scale)), max(1, round(rgb.height * scale))), Image.BILINEAR
        )
    )
    pixels = np.asarray(small)
    detector = _models()[0]
    boxes = _usable(detector(pixels, upsample), rgb.size, scale)
    if retry_upsample is not None and len(boxes) != 1:
        boxes = _usable(detector(pixels, retry_upsample), rgb.size, scale)
    return pixels, boxes


def _describe(pixels: np.ndarray, found) -> tuple[float, ...]:
    """The 128 numbers of one detected face: the biometric part, only with consent."""
    _, predictor, encoder = _models()
    return tuple(
        float(value) for value in encoder.compute_face_descriptor(pixels, predictor(pixels, found))
    )


def faces_find(
    picture: Image.Image, *, upsample: int = 0, retry_upsample: int | None = None
) -> list[Face]:
    """Every face dlib finds in `picture`, largest first, with boxes in its own pixels.

    With `retry_upsample`, a look that does not find exactly one face is done again with that
    much upsampling (see trainings.imaging.faces_of). Vectors are computed only for the faces
    returned: at about 0.1 s each (dlib's network on the CPU) they cost more than the search.
    """
    with _lock:
        pixels, boxes = _detect(picture, upsample, retry_upsample)
        faces = [Face(box=box, vector=_describe(pixels, found)) for box, found in boxes]
    return sorted(faces, key=lambda face: face.area, reverse=True)


def faces_detect(
    picture: Image.Image, *, upsample: int = 0, retry_upsample: int | None = None
) -> list[Box]:
    """Where faces are in `picture` (as faces_find finds them), largest first, without
    describing them: for a picture whose owner did not agree to face processing."""
    with _lock:
        _, boxes = _detect(picture, upsample, retry_upsample)
    return sorted((box for box, _ in boxes), key=box_area, reverse=True)


def _usable(found, size: tuple[int, int], scale: float) -> list[tuple[Box, Any]]:
    """dlib's boxes in the picture's pixels, with the detection each came from; a face too
    small to tell anyone by is left out."""
    width, height = size
    shortest = min(size)
    boxes = []
    for rectangle in found:
        box = (
            max(0, round(rectangle.left() / scale)),
            max(0, round(rectangle.top() / scale)),
            min(width, round(rectangle.right() / scale)),
            min(height, round(rectangle.bottom() / scale)),
        )
        area = max(0, box[2] - box[0]) * max(0, box[3] - box[1])
        if area**0.5 >= MIN_FACE_SHARE * shortest:
            boxes.append((box, rectangle))
    return boxes


def face_distance(a, b) -> float:
    """How far apart two faces (or vectors) are: under SAME_PERSON_DISTANCE, one person."""
    first = np.asarray(a.vector if isinstance(a, Face) else a, dtype=np.float64)
    second = np.asarray(b.vector if isinstance(b, Face) else b, dtype=np.float64)
    return float(np.linalg.norm(first - second))


def likeness_score(distance: float) -> int:
    """0-100 from a distance: 100 at 0.3 or closer (the same photo, re-shot), 50 at the
    same-person threshold, 0 at 0.9 or farther (clearly someone else)."""
    if distance <= 0.3:
        return 100
    if distance >= 0.9:
        return 0
    return round(100 * (0.9 - distance) / 0.6)


def identity_centre(vectors) -> tuple[float, ...] | None:
    """The mean of a person's face vectors: what their other faces are compared with."""
    vectors = [np.asarray(v.vector if isinstance(v, Face) else v) for v in vectors]
    if not vectors:
        return None
    return tuple(float(value) for value in np.mean(vectors, axis=0))
