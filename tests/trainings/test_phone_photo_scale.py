"""A phone photo just under four (or two) times the training size is decoded at the smaller JPEG
scale and brought up to the exact training size, close to a full decode + Lanczos."""

from __future__ import annotations

import io

import cv2
import numpy as np
import pytest
from PIL import Image

from tests import photos
from trainings.imaging import normalise_image


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    # 2000 / 512 = 3.9, as a 4000 px phone photo to 1024 px: just under 1/4 scale.
    return photos.jpeg(photos.large_photo(1, (2000, 1500)), quality=90)


def _grey(data: bytes | Image.Image) -> np.ndarray:
    image = data if isinstance(data, Image.Image) else Image.open(io.BytesIO(data))
    return np.asarray(image.convert("L"), dtype=np.float32)


def _sharpness(grey: np.ndarray) -> float:
    return float(cv2.Laplacian(grey, cv2.CV_32F).var())


def test_a_photo_just_under_four_times_the_target_is_decoded_at_a_quarter(
    phone_photo, draft_scales
):
    result = normalise_image(phone_photo, long_side=512, measure=False)

    assert draft_scales == [4]  # 500 x 375, 2.4 % under the target
    assert result.training_size == (512, 384)
    assert Image.open(io.BytesIO(result.training)).size == (512, 384)
    assert result.original_size == (2000, 1500)

    reference = Image.open(io.BytesIO(phone_photo)).convert("RGB")
    reference = _grey(reference.resize((512, 384), Image.Resampling.LANCZOS))
    ours = _grey(result.training)
    # Close to the full decode: 1/8 scale brought up to size differs by 6 on average and keeps
    # a tenth of the fine detail (Laplacian variance); this keeps about two thirds.
    assert np.abs(ours - reference).mean() < 3.5
    assert _sharpness(ours) > 0.5 * _sharpness(reference)


def test_the_eighth_scale_is_never_taken_to_save_work(phone_photo, draft_scales):
    # 2000 / 256 = 7.8: at 1/8 the photo would be 250 px, too coarse to bring up to 256.
    result = normalise_image(phone_photo, long_side=256, measure=False)

    assert draft_scales == [4]
    assert result.training_size == (256, 192)


def test_a_rotated_phone_photo_gets_the_upright_training_size(draft_scales):
    upright = photos.large_photo(2, (1500, 2000))
    data = photos.jpeg(upright, orientation=6)  # stored turned, 2000 x 1500

    result = normalise_image(data, long_side=512, measure=False)

    assert draft_scales == [4]
    assert result.orientation == 6
    assert result.original_size == (1500, 2000)
    assert result.training_size == (384, 512)
    reference = _grey(upright.resize((384, 512), Image.Resampling.LANCZOS))
    assert np.abs(_grey(result.training) - reference).mean() < 3.5  # upright, not turned
