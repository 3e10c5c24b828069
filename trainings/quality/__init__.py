"""Quality of training photos: measurements of one image, and the report over a set.

- `measurements`: `measure_image` looks at one decoded photo once (sharpness, faces, perceptual
  hash) and returns plain numbers that can be stored as JSON.
- `report`: `build_report`, a pure function over those numbers (duplicates, faces, blur, the
  number of photos and the mix of shot types) giving a `DatasetReport`.
- `identity`: who each photo shows (the set's main person, someone else), from stored faces.
- `variety`: whether most photos come from one shoot (same colours, background and face).

The names callers use are importable from `trainings.quality` itself.
"""

from .measurements import (
    BLUR_THRESHOLD,
    CLOSE_UP_MIN_RATIO,
    HALF_BODY_MIN_RATIO,
    SHOT_TYPES,
    FaceBox,
    ImageMeasurements,
    ShotType,
    colour_signature,
    colour_similarity,
    detect_faces,
    hamming,
    image_phash,
    measure_image,
    phash,
    sharpness,
    shot_type_for,
)
from .report import (
    DUPLICATE_MAX_DISTANCE,
    MAX_IMAGES,
    MIN_IMAGES,
    RECOMMENDED_MAX_IMAGES,
    RECOMMENDED_MIN_IMAGES,
    RECOMMENDED_MIX,
    DatasetReport,
    DuplicatePair,
    Finding,
    PhotoCheck,
    ReportImage,
    build_report,
    recommended_mix,
)

__all__ = [
    "BLUR_THRESHOLD",
    "CLOSE_UP_MIN_RATIO",
    "DUPLICATE_MAX_DISTANCE",
    "HALF_BODY_MIN_RATIO",
    "MAX_IMAGES",
    "MIN_IMAGES",
    "RECOMMENDED_MAX_IMAGES",
    "RECOMMENDED_MIN_IMAGES",
    "RECOMMENDED_MIX",
    "SHOT_TYPES",
    "DatasetReport",
    "DuplicatePair",
    "FaceBox",
    "Finding",
    "ImageMeasurements",
    "PhotoCheck",
    "ReportImage",
    "ShotType",
    "build_report",
    "colour_signature",
    "colour_similarity",
    "detect_faces",
    "hamming",
    "image_phash",
    "measure_image",
    "phash",
    "recommended_mix",
    "sharpness",
    "shot_type_for",
]
