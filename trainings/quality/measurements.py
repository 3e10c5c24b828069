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

# Photos are measured in a pool of worker processes, one photo each: OpenCV's own threads (one
# per core by default) would only compete with the other workers for the same cores.
cv2.setNumThreads(1)

# --- measurement scale --------------------------------------------------------------------------

# Every measurement is taken on a grey copy whose longer side is this many pixels, so scores do not
# depend on the size of the upload (a Laplacian variance grows with resolution).
MEASURE_LONG_SIDE = 512
# When no face is found at 512 px, small faces (a full-body shot: ~7 % of the frame height) are
# searched again on a copy this size (upscaled from the 1024 px training copy when needed): the
# detector finds faces from about 70 px, and 7 % of the 864 px short side of a 4:3 copy is 60-72.
SMALL_FACE_LONG_SIDE = 1152

# --- sharpness ----------------------------------------------------------------------------------

# Variance of the Laplacian of the 512 px grey copy. On the test photos, sharp ones scored 106 to
# 5300 (the lowest: a close-up upscaled 2.5x from a 512 px source, soft but usable). The same
# photos blurred by a 3 px Gaussian at 1024 px all scored under 21, by 2 px between 11 and 71.
# 50 flags every 3 px blur and most 2 px ones, and no sharp photo.
BLUR_THRESHOLD = 50.0

# --- faces --------------------------------------------------------------------------------------

# dlib's frontal face detector (HOG + linear SVM; its model is compiled into dlib, which the
# likeness checks load anyway). It replaced OpenCV's Haar cascades (frontal at 512 px, small faces
# at 1024 px, two profile passes), which cost 0.5-1.3 s on a photo without a face, 5-10 times
# the two passes here (512 px, then 1152 px when nothing was found; bench/preprocess.py). On the
# 72 calibration photos (tests/trainings/test_quality.py, tests/trainings/portraits.py, the
# strangers and the owner of tests/people.py, the benchmark's phone photos, 23 scenes without a
# person) it finds every face the cascades found, at the same shot type, plus a stranger and a
# cropped astronaut they missed, and not the false second face they saw in two portraits and a
# stranger; no face in any photo without one. Its boxes are a little tighter than the cascades'
# (a close-up 0.34-0.35 of the height against 0.38): the shot thresholds below hold.
# A detection scoring under this is not taken for a face on its own: dlib also finds weak "faces"
# on the astronaut's suit (0.02-0.14) next to her real face (1.5); the weakest real face of the
# calibration photos scored 0.3 (a tilted half-body portrait at 640 px).
FACE_MIN_SCORE = 0.25
# A photo where nothing reaches FACE_MIN_SCORE on either copy keeps its best detection above this:
# a blurred face scores low (a full-body shot blurred by 3 px: -0.04), and no photo without a
# person had any detection at all above -0.2.
WEAK_FACE_MIN_SCORE = -0.1
# A blurred face loses the edges the detector looks for: a full-body shot blurred by 3 px has no
# detection at all, even upscaled to 2048 px. A blurry photo where it finds nothing is searched
# again with the OpenCV cascade it replaced (frontal faces at 512 px, then faces of 24-80 px at
# 1024 px), which found that face; it is slow (0.5-1 s), but blurry photos are few and flagged.
CASCADE = "haarcascade_frontalface_alt2.xml"
CASCADE_SCALE_FACTOR = 1.1
CASCADE_MIN_NEIGHBORS = 4
CASCADE_MIN_FACE_PX = 20
CASCADE_SMALL_FACE_LONG_SIDE = 1024
CASCADE_SMALL_FACE_MIN_NEIGHBORS = 5
CASCADE_SMALL_FACE_PX = (24, 80)
# Two boxes overlapping by more than this share of the smaller one are one face seen at two
# scales (dlib reports the astronaut's half-body face twice at 512 px, scores 1.5 and 0.17).
SAME_FACE_OVERLAP = 1 / 3
# A face smaller than this fraction of the largest one is a bystander far behind or a false
# detection in the background; it does not make the photo a group photo.
PROMINENT_FACE_FRACTION = 0.45

# --- shot type from the face height / image height ----------------------------------------------

# Face boxes cover brow to chin, about 0.8 of a head. A head-and-shoulders frame is ~2.5 heads
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
    sharpness_score = round(sharpness(small), 2)
    faces = detect_faces(small, lambda: grey)
    if not faces and sharpness_score < BLUR_THRESHOLD:
        faces = cascade_faces(small, _scaled(grey, CASCADE_SMALL_FACE_LONG_SIDE))
    return ImageMeasurements(
        width=width,
        height=height,
        sharpness=sharpness_score,
        faces=faces,
        phash=phash(small),
        phash_mirrored=phash(np.ascontiguousarray(small[:, ::-1])),
        colours=colour_signature(image),
    )


def image_phash(image: Image.Image) -> int:
    """The perceptual hash `measure_image` stores as `phash`, alone: for comparing a picture
    with measured photos without measuring it."""
    return phash(_scaled(np.asarray(image.convert("L")), MEASURE_LONG_SIDE))


def _scaled(grey: np.ndarray, long_side: int, *, upscale: bool = False) -> np.ndarray:
    height, width = grey.shape
    scale = long_side / max(width, height)
    if scale == 1 or (scale > 1 and not upscale):
        return grey
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(grey, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)


def sharpness(grey: np.ndarray) -> float:
    """Variance of the Laplacian: high with crisp edges, low when blurred."""
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


# dlib's detector is not documented as thread-safe: one per thread (it is small).
_local = threading.local()


def _detector():
    detector = getattr(_local, "detector", None)
    if detector is None:
        import dlib  # imported late: a process that never measures a photo does not load it

        detector = _local.detector = dlib.get_frontal_face_detector()
    return detector


def detect_faces(
    grey: np.ndarray, larger: Callable[[], np.ndarray] | None = None
) -> tuple[FaceBox, ...]:
    """Faces in a grey image, as fractions of its size, largest first.

    If none is found and `larger` gives a larger copy of the same image (any size: it is
    scaled to SMALL_FACE_LONG_SIDE), small faces are looked for on that copy.
    """
    height, width = grey.shape
    boxes, weak = _detect(grey)
    if not boxes and larger is not None:
        big = _scaled(larger(), SMALL_FACE_LONG_SIDE, upscale=True)
        if big.shape[1] > width:
            scale = width / big.shape[1]
            found, weak_big = _detect(big)
            boxes = [_times(box, scale) for box in found]
            weak = _times(weak_big, scale) if weak_big else weak
    if not boxes and weak:
        boxes = [weak]
    boxes.sort(key=lambda b: b[2] * b[3], reverse=True)
    return tuple(
        FaceBox(
            x=round(max(0.0, x) / width, 4),
            y=round(max(0.0, y) / height, 4),
            width=round(w / width, 4),
            height=round(h / height, 4),
        )
        for x, y, w, h in boxes
    )


Box = tuple[float, float, float, float]  # left, top, width, height in pixels


def _times(box: Box, scale: float) -> Box:
    return tuple(value * scale for value in box)


def _detect(grey: np.ndarray) -> tuple[list[Box], Box | None]:
    """The faces scoring at least FACE_MIN_SCORE, one box each, and the best weaker detection."""
    rectangles, scores, _ = _detector().run(np.ascontiguousarray(grey), 0, WEAK_FACE_MIN_SCORE)
    found = sorted(zip(scores, rectangles, strict=True), key=lambda pair: -pair[0])
    kept: list[Box] = []
    weak = None
    for score, r in found:  # the best-scoring box of a face seen twice is kept
        box = (r.left(), r.top(), r.width(), r.height())
        if score < FACE_MIN_SCORE:
            weak = weak or box
        elif all(_overlap(box, other) <= SAME_FACE_OVERLAP for other in kept):
            kept.append(box)
    return kept, weak


def _cascade() -> cv2.CascadeClassifier:
    cascade = getattr(_local, "cascade", None)  # not safe to share between threads either
    if cascade is None:
        cascade = cv2.CascadeClassifier(cv2.data.haarcascades + CASCADE)
        if cascade.empty():
            raise RuntimeError(f"OpenCV cascade {CASCADE} could not be loaded")
        _local.cascade = cascade
    return cascade


def cascade_faces(grey: np.ndarray, larger: np.ndarray) -> tuple[FaceBox, ...]:
    """Frontal faces found by OpenCV's cascade in `grey`, else small ones in `larger` (a larger
    copy of the same image); for blurry photos, where dlib's detector finds nothing."""
    height, width = grey.shape
    minimum = (CASCADE_MIN_FACE_PX, CASCADE_MIN_FACE_PX)
    boxes = _cascade_detect(cv2.equalizeHist(grey), CASCADE_MIN_NEIGHBORS, minimum)
    if not boxes and larger.shape[1] > width:
        scale = width / larger.shape[1]
        low, high = CASCADE_SMALL_FACE_PX
        found = _cascade_detect(
            cv2.equalizeHist(larger), CASCADE_SMALL_FACE_MIN_NEIGHBORS, (low, low), (high, high)
        )
        boxes = [_times(box, scale) for box in found]
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


def _cascade_detect(
    grey: np.ndarray,
    min_neighbors: int,
    min_size: tuple[int, int],
    max_size: tuple[int, int] = (0, 0),
) -> list[Box]:
    found = _cascade().detectMultiScale(
        grey,
        scaleFactor=CASCADE_SCALE_FACTOR,
        minNeighbors=min_neighbors,
        minSize=min_size,
        maxSize=max_size,
    )
    return [tuple(float(v) for v in box) for box in found]


def _overlap(a: Box, b: Box) -> float:
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
