"""The quality report over a set of training photos: findings, the shot mix and `DatasetReport`.

`build_report` is a pure function over the photos' stored `ImageMeasurements`: it decodes
nothing, so the report can be recomputed cheaply whenever a photo is added or removed, or when a
threshold here changes. Blocking findings stop training; warnings say what would help.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from .identity import PhotoIdentity, SubjectFace, photo_identity, set_identity
from .measurements import BLUR_THRESHOLD, SHOT_TYPES, ImageMeasurements, hamming
from .variety import is_one_shoot, largest_shoot

if TYPE_CHECKING:
    from likeness.faces import Face

# --- shot types in messages ---------------------------------------------------------------------

SHOT_LABELS = {"close_up": "close-ups", "half_body": "half-body", "full_body": "full-body"}
SHOT_HINTS = {
    "close_up": "head and shoulders",
    "half_body": "from the waist up",
    "full_body": "head to toe",
}

# --- duplicates ---------------------------------------------------------------------------------

# Hamming distance between 64-bit DCT hashes. A copy resized to a third and recompressed at JPEG
# quality 60-75 was 0-4 bits away; the closest two different photos were 12 apart (two
# compositions of the same person on the same background), unrelated photos 32 (half the bits).
DUPLICATE_MAX_DISTANCE = 8

# --- set rules ----------------------------------------------------------------------------------

MIN_IMAGES = 10
MAX_IMAGES = 30
RECOMMENDED_MIN_IMAGES = 12
RECOMMENDED_MAX_IMAGES = 20
# For 20 photos: 12 close-ups, 5 half-body, 3 full-body; scaled to the size of the set.
RECOMMENDED_MIX = {"close_up": 12, "half_body": 5, "full_body": 3}


@dataclass(frozen=True)
class ReportImage:
    """One photo of the set as the report sees it.

    `name` is what the person recognises (the uploaded file name); `key` is the caller's id for it
    (a primary key), defaulting to the name. A photo refused at upload has no measurements and
    carries the refusal's code and message instead.
    """

    name: str
    measurements: ImageMeasurements | None = None
    refused_code: str | None = None
    refused_message: str | None = None
    key: str | None = None
    # The person said they are in the photo although no face was detected (a profile, glasses).
    face_confirmed: bool = False
    # The faces dlib found (likeness.faces), largest first; None when they were not looked for
    # (no consent to face processing, or not processed yet).
    faces: tuple[Face, ...] | None = None
    # On a photo with several faces, the index of the one the person confirmed is them.
    subject_face: int | None = None

    @property
    def id(self) -> str:
        return self.key if self.key is not None else self.name


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    image: str | None = None  # key of the image concerned; None for the set as a whole
    image_name: str | None = None
    related: str | None = None  # key of the other image (the earlier copy of a duplicate)


@dataclass(frozen=True)
class DuplicatePair:
    original: str
    duplicate: str
    distance: int
    mirrored: bool = False


@dataclass(frozen=True)
class PhotoCheck:
    """What the identity and variety checks say about one photo."""

    image: str
    image_name: str
    identity: str  # "main" (the person of the set), "other" (someone else) or "unknown"
    distance: float | None = None
    face_count: int | None = None
    subject_face: SubjectFace | None = None
    mirrored_duplicate_of: str | None = None


IDENTITY_SKIPPED = (
    "The one-person check was skipped: you did not agree to face processing for these photos."
)


@dataclass(frozen=True)
class DatasetReport:
    total: int
    usable: int
    shot_counts: dict[str, int]
    recommended_mix: dict[str, int]
    duplicates: tuple[DuplicatePair, ...]
    refused: tuple[str, ...]
    no_face: tuple[str, ...]
    several_faces: tuple[str, ...]
    blurry: tuple[str, ...]
    blocking: tuple[Finding, ...]
    warnings: tuple[Finding, ...]
    usable_images: tuple[str, ...] = field(default=())
    photos: tuple[PhotoCheck, ...] = field(default=())
    # Whether the faces were compared (the owner agreed to face processing); if not, why not.
    identity_checked: bool = False
    identity_note: str | None = None

    @property
    def can_train(self) -> bool:
        return not self.blocking

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["can_train"] = self.can_train
        return data


def build_report(images: Sequence[ReportImage], *, face_consent: bool = False) -> DatasetReport:
    """Findings over a set of photos, in upload order (the later copy of a duplicate is blocked).

    With `face_consent`, photos whose faces were stored are checked to be of one person."""
    blocking: list[Finding] = []
    warnings: list[Finding] = []
    refused: list[str] = []
    no_face: list[str] = []
    several: list[str] = []
    blurry: list[str] = []
    duplicates: list[DuplicatePair] = []
    blocked: set[str] = set()
    originals: list[ReportImage] = []
    identity = set_identity(images) if face_consent else None
    identities: dict[str, PhotoIdentity] = {}
    mirrored_of: dict[str, str] = {}

    for image in images:
        m = image.measurements
        if m is None:
            refused.append(image.id)
            blocked.add(image.id)
            reason = image.refused_message or "It could not be read as a photo."
            blocking.append(
                _finding(
                    image.refused_code or "refused",
                    image,
                    f"{image.name}: {_sentence(reason)} "
                    "Remove it or replace it with another photo.",
                )
            )
            continue

        found = _find_original(m, originals)
        if found is not None:
            original, distance, mirrored = found
            duplicates.append(DuplicatePair(original.id, image.id, distance, mirrored))
            blocked.add(image.id)
            if mirrored:
                mirrored_of[image.id] = original.id
                what = "a mirrored copy of"
            else:
                what = "the same photo as" if distance == 0 else "almost the same photo as"
            blocking.append(
                _finding(
                    "duplicate",
                    image,
                    f"{image.name} is {what} {original.name}. Remove it: repeated photos make "
                    "the model copy that one picture instead of learning your face.",
                    related=original.id,
                )
            )
        else:
            originals.append(image)

        person = photo_identity(image, identity) if face_consent else PhotoIdentity()
        identities[image.id] = person
        several_known = person.face_count is not None and person.face_count > 1
        if person.identity == "other":
            blocked.add(image.id)
            # On a group photo the owner may be a face dlib rates unlike them: they can say so.
            way_out = (
                "Remove it, or if you are one of its faces, mark which one is you"
                if several_known
                else "Remove it"
            )
            blocking.append(
                _finding(
                    "other_person",
                    image,
                    f"This looks like someone else: {image.name} does not show the person in "
                    f"most of your photos. {way_out}: a model learns one face, and another "
                    "person's photos muddle it.",
                )
            )
        if several_known and person.identity == "main":
            several.append(image.id)
            if not person.subject_face.confirmed:  # type: ignore[union-attr]
                warnings.append(
                    _finding(
                        "subject_face",
                        image,
                        f"{image.name} shows {person.face_count} faces. The one marked is taken "
                        "to be you: confirm it if that is right, or remove the photo.",
                    )
                )
            elif person.confirmed_unlike:
                warnings.append(
                    _finding(
                        "subject_unlike",
                        image,
                        f"You said you are the face marked in {image.name}; it does not look "
                        "much like your other photos. It is used for training; the consent "
                        "selfie check still applies.",
                    )
                )
        if m.face_count == 0 and image.face_confirmed:
            warnings.append(
                _finding(
                    "face_confirmed",
                    image,
                    f"No face was detected in {image.name}, but you confirmed you are in it: it "
                    "is used. Make sure your face is visible in most of your photos.",
                )
            )
        elif m.face_count == 0:
            no_face.append(image.id)
            blocked.add(image.id)
            blocking.append(
                _finding(
                    "no_face",
                    image,
                    f"No face was found in {image.name}. Remove it, or replace it with a photo "
                    "where your face is clearly visible and well lit.",
                )
            )
        elif m.face_count > 1 and person.face_count is None:
            several.append(image.id)
            warnings.append(
                _finding(
                    "several_faces",
                    image,
                    f"{image.name} shows {m.face_count} faces. Use photos of you alone, or crop "
                    "the others out: the model may mix their features into yours.",
                )
            )
        if m.is_blurry:
            blurry.append(image.id)
            warnings.append(
                _finding(
                    "blurry",
                    image,
                    f"{image.name} looks blurry (sharpness {m.sharpness:.0f}, we look for "
                    f"{BLUR_THRESHOLD:.0f} or more). Replace it with a sharper photo if you can.",
                )
            )

    usable = [i for i in images if i.id not in blocked]
    counts = {shot: 0 for shot in SHOT_TYPES}
    for image in usable:
        shot = image.measurements.shot_type  # type: ignore[union-attr]
        if shot is not None:
            counts[shot] += 1
    recommended = recommended_mix(len(usable))
    blocking.extend(_count_findings(len(usable), blocking=True))
    warnings.extend(_count_findings(len(usable), blocking=False))
    mix = _mix_finding(counts, recommended, len(usable))
    if mix is not None:
        warnings.append(mix)
    largest, compared = largest_shoot(usable)
    if is_one_shoot(largest, compared):
        warnings.append(
            Finding(
                "one_shoot",
                f"Most of your photos come from one shoot ({largest} of {compared} share the "
                "same background and colours): add photos with other clothes, places and "
                "light, so the model learns you rather than that day.",
            )
        )
    photos = tuple(
        PhotoCheck(
            image=i.id,
            image_name=i.name,
            identity=identities[i.id].identity if i.id in identities else "unknown",
            distance=identities[i.id].distance if i.id in identities else None,
            face_count=identities[i.id].face_count if i.id in identities else None,
            subject_face=identities[i.id].subject_face if i.id in identities else None,
            mirrored_duplicate_of=mirrored_of.get(i.id),
        )
        for i in images
    )

    return DatasetReport(
        total=len(images),
        usable=len(usable),
        shot_counts=counts,
        recommended_mix=recommended,
        duplicates=tuple(duplicates),
        refused=tuple(refused),
        no_face=tuple(no_face),
        several_faces=tuple(several),
        blurry=tuple(blurry),
        blocking=tuple(blocking),
        warnings=tuple(warnings),
        usable_images=tuple(i.id for i in usable),
        photos=photos,
        identity_checked=identity is not None,
        identity_note=None if face_consent else IDENTITY_SKIPPED,
    )


def _find_original(
    m: ImageMeasurements, originals: Iterable[ReportImage]
) -> tuple[ReportImage, int, bool] | None:
    """The earlier photo `m` copies: (it, hash distance, whether `m` is its mirror image)."""
    best: tuple[int, bool, ReportImage] | None = None
    for candidate in originals:
        other = candidate.measurements
        distance = hamming(m.phash, other.phash)  # type: ignore[union-attr]
        mirrored = False
        # A photo measured before mirrored hashes were stored: unknown, compared as it is.
        if distance > DUPLICATE_MAX_DISTANCE and other.phash_mirrored is not None:  # type: ignore[union-attr]
            distance, mirrored = hamming(m.phash, other.phash_mirrored), True  # type: ignore[union-attr]
        if distance <= DUPLICATE_MAX_DISTANCE and (best is None or distance < best[0]):
            best = (distance, mirrored, candidate)
    return (best[2], best[0], best[1]) if best else None


def _finding(code: str, image: ReportImage, message: str, related: str | None = None) -> Finding:
    return Finding(
        code=code, message=message, image=image.id, image_name=image.name, related=related
    )


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _round_half_up(value: float) -> int:
    return math.floor(value + 0.5)


def recommended_mix(count: int) -> dict[str, int]:
    """The recommended 12/5/3 mix of 20 photos, scaled to `count`; close-ups take the rest."""
    base = sum(RECOMMENDED_MIX.values())
    half = _round_half_up(count * RECOMMENDED_MIX["half_body"] / base)
    full = _round_half_up(count * RECOMMENDED_MIX["full_body"] / base)
    return {"close_up": max(0, count - half - full), "half_body": half, "full_body": full}


def _photos(n: int) -> str:
    return f"{n} photo" if n == 1 else f"{n} photos"


def _count_findings(usable: int, *, blocking: bool) -> list[Finding]:
    if blocking:
        if usable < MIN_IMAGES:
            return [
                Finding(
                    "too_few",
                    f"You have {_photos(usable)} that can be used; at least {MIN_IMAGES} are "
                    f"needed. Add at least {MIN_IMAGES - usable}, ideally "
                    f"{RECOMMENDED_MIN_IMAGES - usable} ({RECOMMENDED_MIN_IMAGES} to "
                    f"{RECOMMENDED_MAX_IMAGES} photos work best).",
                )
            ]
        if usable > MAX_IMAGES:
            return [
                Finding(
                    "too_many",
                    f"You have {_photos(usable)}; at most {MAX_IMAGES} can be used. Remove "
                    f"{usable - MAX_IMAGES} or more, keeping the sharpest and most varied ones.",
                )
            ]
        return []
    if MIN_IMAGES <= usable < RECOMMENDED_MIN_IMAGES:
        return [
            Finding(
                "fewer_than_recommended",
                f"You have {_photos(usable)}. Training works, but "
                f"{RECOMMENDED_MIN_IMAGES} to {RECOMMENDED_MAX_IMAGES} give a better likeness: "
                f"add {_photos(RECOMMENDED_MIN_IMAGES - usable)} if you can.",
            )
        ]
    if RECOMMENDED_MAX_IMAGES < usable <= MAX_IMAGES:
        return [
            Finding(
                "more_than_recommended",
                f"You have {_photos(usable)}. More than {RECOMMENDED_MAX_IMAGES} rarely helps and "
                f"makes training slower: keep the best {RECOMMENDED_MAX_IMAGES} if you can.",
            )
        ]
    return []


def _mix_finding(
    counts: dict[str, int], recommended: dict[str, int], usable: int
) -> Finding | None:
    if usable == 0:
        return None
    tolerance = max(1, _round_half_up(usable / 10))
    short = {
        s: recommended[s] - counts[s] for s in SHOT_TYPES if recommended[s] - counts[s] >= tolerance
    }
    if not short:
        return None
    have = ", ".join(f"{counts[s]} {SHOT_LABELS[s]}" for s in SHOT_TYPES)
    want = ", ".join(f"{recommended[s]} {SHOT_LABELS[s]}" for s in SHOT_TYPES)
    add = " and ".join(f"{n} {SHOT_LABELS[s]} ({SHOT_HINTS[s]})" for s, n in short.items())
    return Finding(
        "mix",
        f"Your photos: {have}. For {_photos(usable)} we recommend about {want}. "
        f"Add {add}, replacing some of the others, so the model learns you from every distance.",
    )
