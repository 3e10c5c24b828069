"""Measurements of one training photo: size, sharpness, faces and a perceptual hash.

`measure_image` looks at one decoded photo once and returns plain numbers (`ImageMeasurements`)
that can be stored as JSON; the dataset report (`trainings.quality.report`) is built from them
without decoding anything again.

Thresholds were calibrated on real photographs (scikit-image's bundled photos and copies of them
cropped, scaled, recompressed and blurred; see tests/trainings/test_quality.py). Each constant
says what it separates.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

import cv2
import numpy as np
from PIL import Image

# --- measurement scale --------------------------------------------------------------------------

# Every measurement is taken on a grey copy whose longer side is this many pixels, so scores do not
# depend on the size of the upload (a Laplacian variance grows with resolution).
MEASURE_LONG_SIDE = 512
# When no face is found at 512 px, small faces (a full-body shot: ~7 % of the frame height, ~27
# px at 512, close to the cascade's 20 px window) are searched again on a copy up to this size.
SMALL_FACE_LONG_SIDE = 1024

# --- sharpness ----------------------------------------------------------------------------------

# Variance of the Laplacian of the 512 px grey copy. On the test photos, sharp ones scored 106 to
# 5300 (the lowest: a close-up upscaled 2.5x from a 512 px source, soft but usable). The same
# photos blurred by a 3 px Gaussian at 1024 px all scored under 21, by 2 px between 11 and 71.
# 50 flags every 3 px blur and most 2 px ones, and no sharp photo.
BLUR_THRESHOLD = 50.0

# --- faces --------------------------------------------------------------------------------------

# Calibrated on 20 photos with the astronaut's face (close-up, half-body, full-body in portrait and
# landscape, 2-12 MP, sharp and blurred) and 69 without a face (coffee, rocket, the cat, retina,
# Hubble, microscopy, coins, moon, textures; sharp and blurred). haarcascade_frontalface_alt2:
# "default" finds faces in coins, the moon and the retina. With the settings below every face
# was found and no face was found in any sharp photo without one; the few false faces were on
# copies blurred by 2.5 px, which the blur check flags anyway. Searching at 768 px in one pass or
# with scaleFactor 1.08 found more false faces (the cat, gravel, coins) and was slower.
FRONTAL_CASCADE = "haarcascade_frontalface_alt2.xml"
PROFILE_CASCADE = "haarcascade_profileface.xml"
SCALE_FACTOR = 1.1
FRONTAL_MIN_NEIGHBORS = 4
MIN_FACE_PX = 20
# Second pass, at SMALL_FACE_LONG_SIDE: only faces too small for the first (24-80 px there).
SMALL_FACE_MIN_NEIGHBORS = 5
SMALL_FACE_PX = (24, 80)
# Profiles (both directions) only when no frontal face was found. The profile cascade is noisier
# (with 3 neighbours it found a face in the cat photo): ask for more.
PROFILE_MIN_NEIGHBORS = 6
# A face smaller than this fraction of the largest one is a bystander far behind or a false
# detection in the background; it does not make the photo a group photo.
PROMINENT_FACE_FRACTION = 0.45

# --- shot type from the face height / image height ----------------------------------------------

# Cascade boxes cover brow to chin, about 0.8 of a head. A head-and-shoulders frame is ~2.5 heads
# tall (box/height ~0.3), waist-up ~4.5 heads (~0.18), head-to-toe ~8-9 heads (~0.09).
CLOSE_UP_MIN_RATIO = 0.24
HALF_BODY_MIN_RATIO = 0.12

ShotType = Literal["close_up", "half_body", "full_body"]
SHOT_TYPES: tuple[ShotType, ...] = ("close_up", "half_body", "full_body")


@dataclass(frozen=True)
class FaceBox:
    """A detected face, in fractions of the image's width and height (0..1)."""

    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class ImageMeasurements:
    """What the report needs to know about one photo. Stored as JSON with `to_dict`."""

    width: int
    height: int
    sharpness: float
    faces: tuple[FaceBox, ...]
    phash: int
    # The hash of the photo flipped left to right, so a mirrored copy is caught as a duplicate;
    # None for photos measured before it was computed (unknown, not "different").
    phash_mirrored: int | None = None
    # The photo's colours (`colour_signature`), to tell photos of one shoot; None when unknown.
    colours: tuple[float, ...] | None = None

    @property
    def prominent_faces(self) -> tuple[FaceBox, ...]:
        if not self.faces:
            return ()
        largest = max(face.height for face in self.faces)
        return tuple(f for f in self.faces if f.height >= PROMINENT_FACE_FRACTION * largest)

    @property
    def face_count(self) -> int:
        return len(self.prominent_faces)

    @property
    def face_ratio(self) -> float | None:
        """Height of the largest face over the height of the image."""
        return max((f.height for f in self.faces), default=None)

    @property
    def shot_type(self) -> ShotType | None:
        return shot_type_for(self.face_ratio)

    @property
    def is_blurry(self) -> bool:
        return self.sharpness < BLUR_THRESHOLD

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["faces"] = [asdict(f) for f in self.faces]
        # 64-bit integers do not survive JavaScript: the hash travels as 16 hex digits.
        data["phash"] = f"{self.phash:016x}"
        if self.phash_mirrored is not None:
            data["phash_mirrored"] = f"{self.phash_mirrored:016x}"
        if self.colours is not None:
            data["colours"] = list(self.colours)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ImageMeasurements:
        return cls(
            width=int(data["width"]),
            height=int(data["height"]),
            sharpness=float(data["sharpness"]),
            faces=tuple(FaceBox(**f) for f in data["faces"]),
            phash=int(data["phash"], 16),
            phash_mirrored=(
                int(data["phash_mirrored"], 16) if data.get("phash_mirrored") else None
            ),
            colours=tuple(float(v) for v in data["colours"]) if data.get("colours") else None,
        )


def shot_type_for(face_ratio: float | None) -> ShotType | None:
    if face_ratio is None:
        return None
    if face_ratio >= CLOSE_UP_MIN_RATIO:
        return "close_up"
    if face_ratio >= HALF_BODY_MIN_RATIO:
        return "half_body"
    return "full_body"


def measure_image(image: Image.Image) -> ImageMeasurements:
    """Measure one decoded photo (any mode; normally the RGB training copy)."""
    grey = np.asarray(image.convert("L"))
    height, width = grey.shape
    small = _scaled(grey, MEASURE_LONG_SIDE)
    return ImageMeasurements(
        width=width,
        height=height,
        sharpness=round(sharpness(small), 2),
        faces=detect_faces(small, lambda: _scaled(grey, SMALL_FACE_LONG_SIDE)),
        phash=phash(small),
        phash_mirrored=phash(np.ascontiguousarray(small[:, ::-1])),
        colours=colour_signature(image),
    )


def _scaled(grey: np.ndarray, long_side: int) -> np.ndarray:
    height, width = grey.shape
    scale = long_side / max(width, height)
    if scale >= 1:
        return grey
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: high with crisp edges, low when blurred."""
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


# CascadeClassifier objects are not safe to share between threads: one set per thread.
_local = threading.local()


def _cascades() -> tuple[cv2.CascadeClassifier, cv2.CascadeClassifier]:
    cascades = getattr(_local, "cascades", None)
    if cascades is None:
        cascades = (_load_cascade(FRONTAL_CASCADE), _load_cascade(PROFILE_CASCADE))
        _local.cascades = cascades
    return cascades


def _load_cascade(name: str) -> cv2.CascadeClassifier:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + name)
    if cascade.empty():
        raise RuntimeError(f"OpenCV cascade {name} could not be loaded")
    return cascade


def detect_faces(
    grey: np.ndarray, larger: Callable[[], np.ndarray] | None = None
) -> tuple[FaceBox, ...]:
    """Faces in a grey image, as fractions of its size.

    Frontal faces first; then, if `larger` gives a larger copy of the same image, small frontal
    faces on it; then profiles facing either way.
    """
    height, width = grey.shape
    frontal, profile = _cascades()
    equalised = cv2.equalizeHist(grey)
    boxes = _detect(frontal, equalised, FRONTAL_MIN_NEIGHBORS, (MIN_FACE_PX, MIN_FACE_PX))
    if not boxes and larger is not None:
        big = larger()
        if big.shape[1] > width:
            scale = width / big.shape[1]
            low, high = SMALL_FACE_PX
            found = _detect(
                frontal, cv2.equalizeHist(big), SMALL_FACE_MIN_NEIGHBORS, (low, low), (high, high)
            )
            boxes = [tuple(round(v * scale) for v in box) for box in found]
    if not boxes:
        mirrored = np.ascontiguousarray(equalised[:, ::-1])
        minimum = (MIN_FACE_PX, MIN_FACE_PX)
        boxes = _detect(profile, equalised, PROFILE_MIN_NEIGHBORS, minimum)
        boxes += [
            (width - x - w, y, w, h)
            for x, y, w, h in _detect(profile, mirrored, PROFILE_MIN_NEIGHBORS, minimum)
        ]
        boxes = _merge_overlapping(boxes)
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return tuple(
        FaceBox(
            x=round(x / width, 4),
            y=round(y / height, 4),
            width=round(w / width, 4),
            height=round(h / height, 4),
        )
        for x, y, w, h in boxes
    )


def _detect(
    cascade: cv2.CascadeClassifier,
    grey: np.ndarray,
    min_neighbors: int,
    min_size: tuple[int, int],
    max_size: tuple[int, int] = (0, 0),
) -> list[tuple[int, int, int, int]]:
    found = cascade.detectMultiScale(
        grey,
        scaleFactor=SCALE_FACTOR,
        minNeighbors=min_neighbors,
        minSize=min_size,
        maxSize=max_size,
    )
    return [tuple(int(v) for v in box) for box in found]


def _merge_overlapping(
    boxes: list[tuple[int, int, int, int]],
) -> list[tuple[int, int, int, int]]:
    """Keep the larger of two boxes that overlap by more than a third (same face seen twice)."""
    kept: list[tuple[int, int, int, int]] = []
    for box in sorted(boxes, key=lambda b: b[2] * b[3], reverse=True):
        if all(_overlap(box, other) <= 1 / 3 for other in kept):
            kept.append(box)
    return kept


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    ix = max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    smaller = min(a[2] * a[3], b[2] * b[3])
    return (ix * iy) / smaller if smaller else 0.0


@functools.cache
def _dct_matrix(n: int) -> np.ndarray:
    """Orthonormal DCT-II matrix: D @ x is the DCT of the column vector x."""
    k = np.arange(n)[:, None]
    i = np.arange(n)[None, :]
    matrix = np.sqrt(2 / n) * np.cos(np.pi * (2 * i + 1) * k / (2 * n))
    matrix[0, :] = np.sqrt(1 / n)
    return matrix


def phash(grey: np.ndarray) -> int:
    """64-bit perceptual hash: the 8x8 lowest frequencies of a 32x32 DCT, above or below median."""
    small = cv2.resize(grey, (32, 32), interpolation=cv2.INTER_AREA).astype(np.float64)
    dct = _dct_matrix(32)
    low = (dct @ small @ dct.T)[:8, :8].flatten()
    median = np.median(low[1:])  # the DC term is the mean brightness, not structure
    bits = low > median
    return int(sum(1 << i for i, bit in enumerate(bits) if bit))


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


# --- colours ------------------------------------------------------------------------------------

# Colours are compared on a copy this small: the palette of a photo, not its details.
COLOUR_SIDE = 48
# Levels per channel of the joint RGB histogram (4 x 4 x 4 = 64 bins).
COLOUR_LEVELS = 4
# The border: this share of the side on every edge, where the background usually is.
BORDER_SHARE = 0.2


def colour_signature(image: Image.Image) -> tuple[float, ...]:
    """The photo's colours: a 64-bin RGB histogram of the whole photo, then one of its border
    (mostly the background), each summing to 1."""
    rgb = np.asarray(image.convert("RGB").resize((COLOUR_SIDE, COLOUR_SIDE), Image.BOX))
    bins = (rgb.astype(np.int32) * COLOUR_LEVELS) // 256
    index = (bins[..., 0] * COLOUR_LEVELS + bins[..., 1]) * COLOUR_LEVELS + bins[..., 2]
    edge = round(COLOUR_SIDE * BORDER_SHARE)
    border = np.ones((COLOUR_SIDE, COLOUR_SIDE), dtype=bool)
    border[edge:-edge, edge:-edge] = False
    return (*_histogram(index), *_histogram(index[border]))


def _histogram(index: np.ndarray) -> list[float]:
    counts = np.bincount(index.ravel(), minlength=COLOUR_LEVELS**3).astype(np.float64)
    return [round(float(v), 4) for v in counts / counts.sum()]


def colour_similarity(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, float]:
    """How alike two photos' colours are (histogram intersection, 0..1): whole photo, border."""
    bins = COLOUR_LEVELS**3
    first, second = np.asarray(a), np.asarray(b)
    whole = float(np.minimum(first[:bins], second[:bins]).sum())
    border = float(np.minimum(first[bins:], second[bins:]).sum())
    return whole, border
