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

import numpy as np
from PIL import Image

# Two faces closer than this are taken for one person (dlib's own threshold).
SAME_PERSON_DISTANCE = 0.6
# Faces are looked for on a copy at most this many pixels on its longer side: dlib's HOG
# detector finds faces from about 80 px wide, and its cost grows with the area.
DETECT_MAX_SIDE = 800
# Smaller than this share of the picture's shorter side, a face is too small to tell anyone by.
MIN_FACE_SHARE = 0.06

_lock = threading.Lock()  # dlib's objects are not documented as thread-safe


@dataclass(frozen=True)
class Face:
    """One face: where it is in the picture (left, top, right, bottom, in the picture's own
    pixels) and its 128-number description."""

    box: tuple[int, int, int, int]
    vector: tuple[float, ...]

    @property
    def area(self) -> int:
        left, top, right, bottom = self.box
        return max(0, right - left) * max(0, bottom - top)

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


def faces_find(picture: Image.Image, *, upsample: int = 0) -> list[Face]:
    """Every face dlib finds in `picture`, largest first, with boxes in its own pixels."""
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
    detector, predictor, encoder = _models()
    faces = []
    with _lock:
        for box in detector(pixels, upsample):
            shape = predictor(pixels, box)
            vector = encoder.compute_face_descriptor(pixels, shape)
            faces.append(
                Face(
                    box=(
                        max(0, round(box.left() / scale)),
                        max(0, round(box.top() / scale)),
                        min(rgb.width, round(box.right() / scale)),
                        min(rgb.height, round(box.bottom() / scale)),
                    ),
                    vector=tuple(float(value) for value in vector),
                )
            )
    shortest = min(rgb.size)
    usable = [face for face in faces if face.area**0.5 >= MIN_FACE_SHARE * shortest]
    return sorted(usable, key=lambda face: face.area, reverse=True)


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
