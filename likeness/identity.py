"""Who a dataset is of: its main identity, the largest group of faces that are one person
across its photos, and how far any face is from it.

Reads the faces the worker stored on each photo (`DatasetImage.faces`); computes nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass

from .faces import SAME_PERSON_DISTANCE, Face, face_distance, identity_centre


@dataclass(frozen=True)
class Identity:
    """The main person of a set of photos: the centre of their faces, and how many photos
    show them."""

    centre: tuple[float, ...]
    photo_count: int


def main_identity(faces_by_photo: list[list[Face]]) -> Identity | None:
    """The largest group of faces within SAME_PERSON_DISTANCE of each other, counting each
    photo once; None when no photo has a face.

    Every face is tried as a seed; the seed whose neighbourhood covers the most photos wins
    (ties: the closer group). Quadratic in faces, which is fine for 10-30 photos."""
    faces = [(index, face) for index, photo in enumerate(faces_by_photo) for face in photo]
    best: tuple[int, float, list[Face]] | None = None
    for _, seed in faces:
        members: dict[int, tuple[float, Face]] = {}
        for index, face in faces:
            distance = face_distance(seed, face)
            if distance < SAME_PERSON_DISTANCE and (
                index not in members or distance < members[index][0]
            ):
                members[index] = (distance, face)
        spread = sum(distance for distance, _ in members.values()) / len(members)
        candidate = (len(members), -spread, [face for _, face in members.values()])
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    if best is None:
        return None
    return Identity(centre=identity_centre(best[2]), photo_count=best[0])


def dataset_identity(dataset) -> Identity | None:
    """The main identity of a dataset's ready photos (None without faces, e.g. no consent)."""
    photos = dataset.images.filter(status="ready").exclude(faces=[]).values_list("faces", flat=True)
    return main_identity([[Face.from_json(face) for face in faces] for faces in photos])
