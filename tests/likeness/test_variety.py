"""The variety checks of the quality report: a mirrored copy of a photo is a duplicate, and a
set made mostly of one shoot (crops of one photograph) is told to add other clothes, places
and light, while a varied set is not. Real photos: tests/photos.py, tests/people.py and the
portraits of the end-to-end tests."""

from __future__ import annotations

import functools
import random

import pytest
from PIL import Image

from tests import people, photos
from tests.likeness.dataset_rows import photo_add
from tests.trainings.portraits import portrait
from trainings.models import Dataset
from trainings.quality import ImageMeasurements, ReportImage, build_report, measure_image


@functools.cache
def _measured(key: str) -> ImageMeasurements:
    return measure_image(_PICTURES[key]())


def _image(name: str, key: str | None = None) -> ReportImage:
    return ReportImage(name=name, measurements=_measured(key or name))


def _crops_of(picture: Image.Image, count: int, seed: int) -> list[Image.Image]:
    """`count` different crops of one photograph, each 55-95 % of its width and height,
    anywhere in it, resized as a phone would store them."""
    rng = random.Random(seed)
    width, height = picture.size
    crops = []
    for _ in range(count):
        crop_width = round(width * rng.uniform(0.55, 0.95))
        crop_height = round(height * rng.uniform(0.55, 0.95))
        left = rng.randint(0, width - crop_width)
        top = rng.randint(0, height - crop_height)
        box = (left, top, left + crop_width, top + crop_height)
        crops.append(picture.crop(box).resize((512, 512), Image.Resampling.LANCZOS))
    return crops


@functools.cache
def _astronaut_crops() -> list[Image.Image]:
    return _crops_of(photos.source("astronaut"), 15, seed=0)


@functools.cache
def _group_crops() -> list[Image.Image]:
    return _crops_of(people.group_photo(), 15, seed=1)


_PICTURES = {
    **{f"me-{i:02d}.jpg": (lambda i=i: portrait(i, (512, 640))) for i in range(15)},
    **{f"crop-{i:02d}.jpg": (lambda i=i: _astronaut_crops()[i]) for i in range(15)},
    **{f"group-{i:02d}.jpg": (lambda i=i: _group_crops()[i]) for i in range(15)},
    **{f"person-{i}.jpg": (lambda i=i: people.stranger(i, 512)) for i in (3, 4, 5)},
    "me-03-mirrored.jpg": lambda: people.mirrored(portrait(3, (512, 640))).resize((480, 600)),
}


def _codes(findings) -> list[str]:
    return [finding.code for finding in findings]


# --- mirrored copies ----------------------------------------------------------------------------


def test_a_mirrored_copy_is_a_duplicate_of_the_photo():
    images = [_image(f"me-{i:02d}.jpg") for i in range(12)]
    images.append(_image("me-03-mirrored.jpg"))

    report = build_report(images)

    (finding,) = [f for f in report.blocking if f.code == "duplicate"]
    assert finding.image == "me-03-mirrored.jpg" and finding.related == "me-03.jpg"
    assert "a mirrored copy of me-03.jpg" in finding.message
    (pair,) = report.duplicates
    assert pair.mirrored is True
    checks = {check.image: check for check in report.photos}
    assert checks["me-03-mirrored.jpg"].mirrored_duplicate_of == "me-03.jpg"
    assert checks["me-03.jpg"].mirrored_duplicate_of is None
    assert report.usable == 12


def test_the_same_face_mirrored_on_other_scenes_is_not_a_duplicate():
    report = build_report([_image(f"me-{i:02d}.jpg") for i in range(15)])

    assert not report.duplicates
    assert {check.mirrored_duplicate_of for check in report.photos} == {None}


def test_photos_measured_before_the_mirrored_hash_are_compared_as_they_are():
    """Rows stored before this check have no mirrored hash and no colours: unknown, no crash."""

    def earlier(name: str) -> ReportImage:
        stored = _measured(name).to_dict()
        del stored["phash_mirrored"], stored["colours"]
        return ReportImage(name=name, measurements=ImageMeasurements.from_dict(stored))

    images = [earlier(f"crop-{i:02d}.jpg") for i in range(12)]
    images.append(earlier("me-03-mirrored.jpg"))
    images.insert(0, earlier("me-03.jpg"))

    report = build_report(images)

    assert not [pair for pair in report.duplicates if pair.mirrored]
    assert "one_shoot" not in _codes(report.warnings)
    assert {check.mirrored_duplicate_of for check in report.photos} == {None}


def test_the_mirrored_hash_and_colours_round_trip_through_json():
    measured = _measured("me-03.jpg")
    assert measured.phash_mirrored is not None and measured.phash_mirrored != measured.phash
    assert len(measured.colours) == 128
    assert ImageMeasurements.from_dict(measured.to_dict()) == measured


# --- one shoot ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["crop", "group"])
def test_fifteen_crops_of_one_photograph_are_one_shoot(kind):
    report = build_report([_image(f"{kind}-{i:02d}.jpg") for i in range(15)])

    (finding,) = [f for f in report.warnings if f.code == "one_shoot"]
    assert finding.image is None
    assert finding.message.startswith("Most of your photos come from one shoot")
    assert "add photos with other clothes, places and light" in finding.message
    assert f"of {report.usable} share" in finding.message


def test_a_varied_set_is_not_one_shoot():
    report = build_report([_image(f"me-{i:02d}.jpg") for i in range(15)])

    assert "one_shoot" not in _codes(report.warnings)
    assert report.can_train


def test_a_few_crops_among_varied_photos_are_not_most_of_them():
    images = [_image(f"me-{i:02d}.jpg") for i in range(10)]
    images += [_image(f"crop-{i:02d}.jpg") for i in range(4)]

    assert "one_shoot" not in _codes(build_report(images).warnings)


def test_different_people_in_one_light_are_not_one_shoot():
    images = [_image(f"me-{i:02d}.jpg") for i in range(8)]
    images += [_image(f"person-{i}.jpg") for i in (3, 4, 5)]

    assert "one_shoot" not in _codes(build_report(images).warnings)


# --- in the API ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_report_api_gives_the_variety_findings(owner, as_user):
    dataset = Dataset.objects.create(owner=owner, name="Me")
    rows = {
        name: photo_add(dataset, name, _PICTURES[name])
        for name in [f"crop-{i:02d}.jpg" for i in range(15)]
    }
    mirror = people.mirrored(_astronaut_crops()[0])
    copy = photo_add(dataset, "crop-00-mirrored.jpg", lambda: mirror)

    response = as_user(owner).get(f"/api/v1/datasets/{dataset.id}/report/")

    assert response.status_code == 200
    body = response.json()
    assert "one_shoot" in [f["code"] for f in body["warnings"]]
    (check,) = [p for p in body["photos"] if p["image"] == str(copy.id)]
    assert check["mirrored_duplicate_of"] == str(rows["crop-00.jpg"].id)
    assert check["identity"] == "unknown" and check["subject_face"] is None
    assert body["identity_checked"] is False
    assert "did not agree to face processing" in body["identity_note"]
