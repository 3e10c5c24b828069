"""Whether a set of photos is varied: photos of one shoot (same background and colours).

Fifteen crops of one photograph teach a model that one day's clothes, place and light, not the
person. Two photos are taken to come from one shoot when their colours, over the whole photo
and over its border (mostly the background), are nearly the same.

Faces are not used: on crops of one photograph, resized as phones store them, dlib's vectors of
the one face were 0.14 to 0.49 apart (and missed on a third of the tight crops), while one face
pasted on other scenes stayed within 0.04-0.28, so the face distance tells neither way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .measurements import colour_similarity

if TYPE_CHECKING:
    from .report import ReportImage

# Histogram intersection (0..1) of the 64-bin colour histograms, the lower of whole photo and
# border. 15 crops of one photograph (each keeping 55-95 % of each side, anywhere in it) were
# all within 0.8 of a common one, for the astronaut's photo and the six people's group photo
# alike; of the 15 portraits of the end-to-end tests (one face pasted on six scenes, flipped
# and shifted) at most 6 were (10 at 0.75); of unrelated photos at most 3 of 11. Much tighter
# crops (the face alone beside the whole photo) differ in colours too and are not caught.
ONE_SHOOT_COLOURS = 0.8
# The warning needs most of the photos (and a few at least) to be one shoot.
ONE_SHOOT_SHARE = 0.6
ONE_SHOOT_MIN_PHOTOS = 5


def _same_shoot(a: ReportImage, b: ReportImage) -> bool:
    whole, border = colour_similarity(a.measurements.colours, b.measurements.colours)  # type: ignore[union-attr, arg-type]
    return min(whole, border) >= ONE_SHOOT_COLOURS


def largest_shoot(images: Sequence[ReportImage]) -> tuple[int, int]:
    """(photos in the largest group of one shoot, photos compared); photos measured before
    colours were stored are left out. Each photo is tried as the centre of a group."""
    known = [i for i in images if i.measurements and i.measurements.colours is not None]
    best = 0
    for seed in known:
        size = sum(1 for other in known if other is seed or _same_shoot(seed, other))
        best = max(best, size)
    return best, len(known)


def is_one_shoot(largest: int, compared: int) -> bool:
    return largest >= ONE_SHOOT_MIN_PHOTOS and largest >= ONE_SHOOT_SHARE * compared
