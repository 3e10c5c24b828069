"""Fixtures shared by the trainings tests."""

import pytest
from PIL import JpegImagePlugin


@pytest.fixture
def draft_scales(monkeypatch) -> list[int]:
    """The scale (1, 2, 4 or 8) of every JPEG draft decode made while the test runs."""
    scales = []
    original_draft = JpegImagePlugin.JpegImageFile.draft

    def spy(self, mode, size):
        result = original_draft(self, mode, size)
        scales.append(self.decoderconfig[0])
        return result

    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft", spy)
    return scales
