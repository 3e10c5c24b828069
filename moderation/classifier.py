"""The image classifier: NudeNet's detector, run locally, decides whether a picture is held.

`image_classify(data)` decodes the picture with Pillow, runs NudeNet's 320n ONNX model (shipped
in the nudenet wheel) on it and compares the highest score of each detected class with
settings.MODERATION_CLASSIFIER_THRESHOLDS. It fails closed: a picture that cannot be decoded,
a classifier that raises, or a run longer than MODERATION_CLASSIFIER_TIMEOUT_SECONDS gives
`held`, never `approved`.

The model is loaded once per process, on first use, with onnxruntime limited to one thread:
the worker runs several tasks at once on few cores, and the model is small enough (about
0.1 s per 1024 px picture) that one thread each is the better trade.
"""

from __future__ import annotations

import io
import logging
import threading
import time
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import pillow_heif
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from PIL import Image, ImageOps

logger = logging.getLogger(__name__)

pillow_heif.register_heif_opener()

# Outputs are WebP, JPEG or PNG; uploads may also be HEIC. Anything else is held.
_FORMATS = ("JPEG", "PNG", "WEBP", "HEIF")
# Pillow refuses more than twice its own limit; a picture between the two is refused here.
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
MODEL_INPUT_SIZE = 320  # the 320n model's training resolution

# Every class NudeNet 3.4's detector reports (nudenet.nudenet.__labels).
CLASSES = frozenset(
    {
        "FEMALE_GENITALIA_COVERED",
        "FACE_FEMALE",
        "BUTTOCKS_EXPOSED",
        "FEMALE_BREAST_EXPOSED",
        "FEMALE_GENITALIA_EXPOSED",
        "MALE_BREAST_EXPOSED",
        "ANUS_EXPOSED",
        "FEET_EXPOSED",
        "BELLY_COVERED",
        "FEET_COVERED",
        "ARMPITS_COVERED",
        "ARMPITS_EXPOSED",
        "FACE_MALE",
        "BELLY_EXPOSED",
        "MALE_GENITALIA_EXPOSED",
        "ANUS_COVERED",
        "FEMALE_BREAST_COVERED",
        "BUTTOCKS_COVERED",
    }
)


class Verdict(StrEnum):
    APPROVED = "approved"
    HELD = "held"


class HoldReason(StrEnum):
    OVER_THRESHOLD = "over_threshold"
    CLASSIFIER_ERROR = "classifier_error"
    CLASSIFIER_TIMEOUT = "classifier_timeout"


@dataclass(frozen=True)
class Classification:
    verdict: Verdict
    scores: dict[str, float] = field(default_factory=dict)  # class -> highest score in the image
    flagged: list[str] = field(default_factory=list)  # classes at or over threshold, worst first
    reason: HoldReason | None = None  # why it is held; None when approved
    seconds: float = 0.0  # wall time of the call, a first call's model load included

    @property
    def approved(self) -> bool:
        return self.verdict == Verdict.APPROVED


_detector = None
_detector_lock = threading.Lock()


def _load_detector():
    import onnxruntime
    from nudenet import NudeDetector

    class SingleThreadDetector(NudeDetector):
        # NudeDetector.__init__ takes no session options; this sets the same three attributes
        # its detect() reads, from a session limited to one thread.
        def __init__(self) -> None:
            import nudenet

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1
            options.inter_op_num_threads = 1
            options.execution_mode = onnxruntime.ExecutionMode.ORT_SEQUENTIAL
            self.onnx_session = onnxruntime.InferenceSession(
                str(Path(nudenet.__file__).parent / "320n.onnx"),
                sess_options=options,
                providers=["CPUExecutionProvider"],
            )
            self.input_width = self.input_height = MODEL_INPUT_SIZE
            self.input_name = self.onnx_session.get_inputs()[0].name

    return SingleThreadDetector()


def detector():
    """The process's detector, loaded on first use (thread-safe)."""
    global _detector
    if _detector is None:
        with _detector_lock:
            if _detector is None:
                _detector = _load_detector()
    return _detector


def _decode(data: bytes) -> np.ndarray:
    image = Image.open(io.BytesIO(data), formats=_FORMATS)
    if image.width * image.height > MAX_PIXELS:
        raise ValueError(f"{image.width}x{image.height} is more pixels than {MAX_PIXELS}")
    image = ImageOps.exif_transpose(image)  # upright, as a person sees it
    # RGB, not the BGR cv2.imread gives: NudeNet 3.4.2's preprocessing swaps channels twice
    # (COLOR_RGBA2BGR, then swapRB), so an RGB array reaches the model as RGB, the order it was
    # trained on; a file path would reach it as BGR (notAI-tech/NudeNet#203).
    return np.asarray(image.convert("RGB"))


def _detect(model, data: bytes) -> dict[str, float]:
    scores: dict[str, float] = {}
    for detection in model.detect(_decode(data)):
        name, score = detection["class"], float(detection["score"])
        scores[name] = max(score, scores.get(name, 0.0))
    return scores


def _thresholds() -> dict[str, float]:
    thresholds = dict(settings.MODERATION_CLASSIFIER_THRESHOLDS)
    unknown = sorted(set(thresholds) - CLASSES)
    if unknown:
        raise ImproperlyConfigured(
            f"MODERATION_CLASSIFIER_THRESHOLDS names classes the detector does not know: "
            f"{', '.join(unknown)}"
        )
    return thresholds


class ClassifierTimeout(Exception):
    pass


def _run_with_timeout(model, data: bytes, timeout: float) -> dict[str, float]:
    """Detect in a thread of its own; past the timeout the caller moves on and the thread is
    left to finish (onnxruntime cannot be interrupted), its answer unused."""
    future: Future[dict[str, float]] = Future()

    def work() -> None:
        future.set_running_or_notify_cancel()
        try:
            future.set_result(_detect(model, data))
        except BaseException as error:
            future.set_exception(error)

    threading.Thread(target=work, name="image-classifier", daemon=True).start()
    done, _ = wait([future], timeout=timeout)
    if not done:
        raise ClassifierTimeout(f"no answer after {timeout} s")
    return future.result()


def image_classify(data: bytes) -> Classification:
    """Classify one picture (encoded bytes): `approved`, or `held` with the reason."""
    started = time.perf_counter()

    def held(reason: HoldReason, scores=None, flagged=None) -> Classification:
        return Classification(
            verdict=Verdict.HELD,
            scores=scores or {},
            flagged=flagged or [],
            reason=reason,
            seconds=time.perf_counter() - started,
        )

    try:
        thresholds = _thresholds()
        timeout = float(settings.MODERATION_CLASSIFIER_TIMEOUT_SECONDS)
        scores = _run_with_timeout(detector(), data, timeout)
    except ClassifierTimeout:
        logger.warning("Image classifier timed out after %s s; the image is held", timeout)
        return held(HoldReason.CLASSIFIER_TIMEOUT)
    except Exception:
        logger.exception("Image classifier failed; the image is held")
        return held(HoldReason.CLASSIFIER_ERROR)

    flagged = sorted(
        (name for name, score in scores.items() if score >= thresholds.get(name, float("inf"))),
        key=lambda name: scores[name],
        reverse=True,
    )
    if flagged:
        return held(HoldReason.OVER_THRESHOLD, scores, flagged)
    return Classification(
        verdict=Verdict.APPROVED, scores=scores, seconds=time.perf_counter() - started
    )
