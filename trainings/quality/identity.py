"""Who each photo of a set shows: the set's main person, someone else, or unknown.

Works on the faces the worker stored (dlib's, `likeness.faces.Face`), found only with the
owner's consent; a photo whose faces were not looked for is "unknown" and checked by nothing
here. On a photo with several faces the subject is the one the owner confirmed, else the face
closest to the main identity. The owner's confirmation is taken at their word: that face is
theirs even when dlib rates it as someone else (a small face in a group, a profile), and only a
warning says it looks unlike the rest; the consent selfie still checks the set as a whole. A
photo with one face has nothing to choose between, so nothing to confirm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from likeness.faces import SAME_PERSON_DISTANCE, Face, face_distance
from likeness.identity import Identity, main_identity

if TYPE_CHECKING:
    from .report import ReportImage

IdentityKind = Literal["main", "other", "unknown"]


@dataclass(frozen=True)
class SubjectFace:
    """The subject's face on a photo with several faces: its index among the photo's faces,
    its box in the photo's pixels (left, top, right, bottom) and the same box in fractions of
    the photo's width and height (to draw it over a thumbnail)."""

    index: int
    box: tuple[int, int, int, int]
    left: float
    top: float
    width: float
    height: float
    confirmed: bool


@dataclass(frozen=True)
class PhotoIdentity:
    identity: IdentityKind = "unknown"
    distance: float | None = None  # from the subject's face to the main identity
    face_count: int | None = None  # faces dlib found; None when not looked for
    subject: Face | None = None
    subject_face: SubjectFace | None = None  # only when there are several faces

    @property
    def confirmed_unlike(self) -> bool:
        """The owner confirmed a face that is far from the set's identity."""
        confirmed = self.subject_face is not None and self.subject_face.confirmed
        return confirmed and self.distance is not None and self.distance >= SAME_PERSON_DISTANCE


def _confirmed_index(image: ReportImage) -> int | None:
    faces = image.faces or ()
    index = image.subject_face
    if len(faces) < 2:  # a stored answer on a one-face photo would otherwise vouch for a stranger
        return None
    return index if index is not None and 0 <= index < len(faces) else None


def set_identity(images: Sequence[ReportImage]) -> Identity | None:
    """The main identity over the photos that have faces; a confirmed subject counts alone."""
    faces_by_photo = []
    for image in images:
        if image.measurements is None or not image.faces:
            continue
        confirmed = _confirmed_index(image)
        faces_by_photo.append(list(image.faces) if confirmed is None else [image.faces[confirmed]])
    return main_identity(faces_by_photo) if faces_by_photo else None


def photo_identity(image: ReportImage, identity: Identity | None) -> PhotoIdentity:
    if image.faces is None:
        return PhotoIdentity()
    faces = tuple(image.faces)
    if not faces or identity is None:
        return PhotoIdentity(face_count=len(faces))
    distances = [face_distance(face, identity.centre) for face in faces]
    confirmed = _confirmed_index(image)
    index = confirmed if confirmed is not None else distances.index(min(distances))
    subject = faces[index]
    subject_face = None
    if len(faces) > 1:
        subject_face = _subject_face(image, index, subject, confirmed is not None)
    same_person = distances[index] < SAME_PERSON_DISTANCE
    return PhotoIdentity(
        identity="main" if same_person or confirmed is not None else "other",
        distance=round(distances[index], 3),
        face_count=len(faces),
        subject=subject,
        subject_face=subject_face,
    )


def _subject_face(image: ReportImage, index: int, face: Face, confirmed: bool) -> SubjectFace:
    left, top, right, bottom = face.box
    m = image.measurements
    width, height = (m.width, m.height) if m else (max(right, 1), max(bottom, 1))
    return SubjectFace(
        index=index,
        box=face.box,
        left=round(left / width, 4),
        top=round(top / height, 4),
        width=round((right - left) / width, 4),
        height=round((bottom - top) / height, 4),
        confirmed=confirmed,
    )
