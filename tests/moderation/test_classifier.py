"""The image classifier runs NudeNet's real model on real pictures (scikit-image's photos).

No explicit picture ships with the tests: the threshold logic is proved on what the detector
really finds in the astronaut photo (a female face), by giving FACE_FEMALE a threshold.
"""

from __future__ import annotations

import io
import threading
import time

import pytest
from PIL import Image

from bench.__main__ import main
from moderation import classifier
from moderation.classifier import Classification, HoldReason, Verdict, image_classify
from tests import photos


@pytest.fixture(scope="module")
def astronaut_png() -> bytes:
    return photos.encode(photos.source("astronaut"), "PNG")


@pytest.fixture(scope="module")
def astronaut_face_score(astronaut_png) -> float:
    return image_classify(astronaut_png).scores["FACE_FEMALE"]


def _assert_held(result: Classification, reason: HoldReason) -> None:
    assert result.verdict == Verdict.HELD
    assert result.reason == reason
    assert not result.approved


# --- ordinary pictures are approved -------------------------------------------------------------


def test_a_photo_of_a_person_is_approved_and_the_detector_really_ran(astronaut_png):
    result = image_classify(astronaut_png)

    assert result.verdict == Verdict.APPROVED == "approved"
    assert result.approved
    assert result.reason is None
    assert result.flagged == []
    # The model found the face: the verdict comes from real detections, not from an empty run.
    assert result.scores["FACE_FEMALE"] > 0.5
    assert not set(result.scores) & set(classifier.settings.MODERATION_CLASSIFIER_THRESHOLDS)
    assert 0 < result.seconds < 5


def test_a_generated_size_output_is_approved():
    """What Replicate returns: a 1024 px JPEG or WebP."""
    portrait = photos.half_body(1024)
    for data in (photos.jpeg(portrait, with_exif=False), photos.webp(portrait)):
        result = image_classify(data)
        assert result.verdict == Verdict.APPROVED
        assert "FACE_FEMALE" in result.scores


def test_a_heic_upload_is_decoded_and_approved():
    result = image_classify(photos.heic(photos.close_up(512), orientation=6))
    assert result.verdict == Verdict.APPROVED
    assert "FACE_FEMALE" in result.scores


@pytest.mark.parametrize(
    "picture",
    [
        pytest.param(lambda: Image.new("RGB", (1024, 1024), (40, 120, 200)), id="solid colour"),
        pytest.param(lambda: photos.scene("rocket", (1024, 1024)), id="landscape"),
        pytest.param(lambda: photos.scene("coffee", (1024, 768)), id="still life"),
        pytest.param(lambda: Image.new("L", (512, 512), 0), id="black mask"),
    ],
)
def test_pictures_without_people_are_approved(picture):
    result = image_classify(photos.encode(picture(), "PNG"))
    assert result.verdict == Verdict.APPROVED
    assert result.flagged == []


# --- thresholds -----------------------------------------------------------------------------


def test_a_class_over_its_threshold_holds_the_picture_and_is_named(
    settings, astronaut_png, astronaut_face_score
):
    settings.MODERATION_CLASSIFIER_THRESHOLDS = {
        **settings.MODERATION_CLASSIFIER_THRESHOLDS,
        "FACE_FEMALE": 0.1,
    }

    result = image_classify(astronaut_png)

    _assert_held(result, HoldReason.OVER_THRESHOLD)
    assert result.flagged == ["FACE_FEMALE"]
    assert result.scores["FACE_FEMALE"] == pytest.approx(astronaut_face_score)


def test_the_threshold_is_compared_with_the_real_score(
    settings, astronaut_png, astronaut_face_score
):
    settings.MODERATION_CLASSIFIER_THRESHOLDS = {"FACE_FEMALE": astronaut_face_score - 0.01}
    _assert_held(image_classify(astronaut_png), HoldReason.OVER_THRESHOLD)

    settings.MODERATION_CLASSIFIER_THRESHOLDS = {"FACE_FEMALE": astronaut_face_score + 0.01}
    assert image_classify(astronaut_png).verdict == Verdict.APPROVED


def test_an_unknown_class_name_in_the_settings_holds_every_picture(settings, astronaut_png):
    settings.MODERATION_CLASSIFIER_THRESHOLDS = {"FEMALE_BREAST_EXPOSD": 0.4}  # a typo

    _assert_held(image_classify(astronaut_png), HoldReason.CLASSIFIER_ERROR)


def test_the_default_thresholds_cover_the_exposed_classes(settings):
    thresholds = settings.MODERATION_CLASSIFIER_THRESHOLDS
    for name in (
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "BUTTOCKS_EXPOSED",
        "ANUS_EXPOSED",
    ):
        assert 0.25 <= thresholds[name] <= 0.5
    assert set(thresholds) <= classifier.CLASSES


# --- failures hold, never approve ---------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"not a picture at all", id="text"),
        pytest.param(photos.encode(photos.source("astronaut"), "PNG")[:3000], id="truncated png"),
        pytest.param(photos.png_bomb(), id="decompression bomb"),
        pytest.param(photos.encode(photos.source("astronaut"), "GIF"), id="format not accepted"),
    ],
)
def test_a_picture_that_cannot_be_read_is_held(data):
    _assert_held(image_classify(data), HoldReason.CLASSIFIER_ERROR)


def test_a_classifier_that_raises_holds_the_picture(monkeypatch, astronaut_png):
    def broken(image):
        raise RuntimeError("onnxruntime fell over")

    monkeypatch.setattr(classifier.detector(), "detect", broken)

    _assert_held(image_classify(astronaut_png), HoldReason.CLASSIFIER_ERROR)


def test_a_model_that_cannot_be_loaded_holds_the_picture(monkeypatch, astronaut_png):
    def cannot_load():
        raise OSError("320n.onnx: no such file")

    monkeypatch.setattr(classifier, "_detector", None)
    monkeypatch.setattr(classifier, "_load_detector", cannot_load)

    _assert_held(image_classify(astronaut_png), HoldReason.CLASSIFIER_ERROR)


def test_a_classifier_that_takes_too_long_holds_the_picture(settings, monkeypatch, astronaut_png):
    settings.MODERATION_CLASSIFIER_TIMEOUT_SECONDS = 0.2
    model = classifier.detector()
    real_detect = model.detect
    release = threading.Event()
    finished = threading.Event()

    def slow(image):
        release.wait(10)
        try:
            return real_detect(image)
        finally:
            finished.set()

    monkeypatch.setattr(model, "detect", slow)
    started = time.perf_counter()
    try:
        result = image_classify(astronaut_png)
    finally:
        release.set()

    _assert_held(result, HoldReason.CLASSIFIER_TIMEOUT)
    assert time.perf_counter() - started < 2
    assert result.scores == {}
    assert finished.wait(10)  # the abandoned run ends on its own; its answer was not used


def test_a_real_run_over_a_tiny_timeout_is_held(settings, astronaut_png):
    settings.MODERATION_CLASSIFIER_TIMEOUT_SECONDS = 0.000001

    _assert_held(image_classify(astronaut_png), HoldReason.CLASSIFIER_TIMEOUT)


# --- the model ----------------------------------------------------------------------------------


def test_the_model_is_loaded_once_per_process(monkeypatch, astronaut_png):
    loads = []
    real_load = classifier._load_detector

    def counting_load():
        loads.append(1)
        time.sleep(0.1)  # a slow load, so that concurrent first calls overlap
        return real_load()

    monkeypatch.setattr(classifier, "_detector", None)
    monkeypatch.setattr(classifier, "_load_detector", counting_load)

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(image_classify(astronaut_png)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.append(image_classify(astronaut_png))

    assert len(loads) == 1
    assert [result.verdict for result in results] == [Verdict.APPROVED] * 5


def test_onnxruntime_uses_one_thread():
    options = classifier.detector().onnx_session.get_session_options()
    assert options.intra_op_num_threads == 1
    assert options.inter_op_num_threads == 1


def test_the_model_is_given_rgb(monkeypatch):
    """NudeNet 3.4.2 swaps channels twice; an RGB array reaches the model as RGB."""
    seen = []
    model = classifier.detector()
    monkeypatch.setattr(model, "detect", lambda image: seen.append(image) or [])

    image_classify(photos.encode(Image.new("RGB", (64, 32), (255, 0, 0)), "PNG"))

    assert seen[0].shape == (32, 64, 3)
    assert tuple(seen[0][0, 0]) == (255, 0, 0)


def test_the_benchmark_runs():
    """`make bench` reports the classifier's time; a quick run keeps it working."""
    out = io.StringIO()
    assert main(["classifier", "--runs", "2", "--warmup", "0", "--loads", "1"], out=out) == 0

    text = out.getvalue()
    assert "1024x1024 WebP" in text
    for label in ("load: first", "astronaut: image_classify (approved)", "landscape: detect"):
        assert label in text
