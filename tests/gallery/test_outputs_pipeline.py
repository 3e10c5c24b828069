"""A generation's outputs go through the pipeline side by side: one output's safety scan runs
while another is being processed, instead of every output waiting for the previous one's."""

from __future__ import annotations

import threading

import pytest

from gallery.models import GeneratedImage, Generation
from gallery.services import review
from gallery.services.images import generation_outputs_store
from tests.gallery.factories import make_generation
from tests.gallery.test_outputs_concurrent import slow_outputs  # noqa: F401

pytestmark = pytest.mark.django_db


def test_scans_of_two_outputs_overlap_and_every_output_is_stored_approved(
    owner,
    slow_outputs,  # noqa: F811 (the fixture)
    settings,
    monkeypatch,
):
    settings.GENERATION_OUTPUT_THREADS = 4
    base, _state = slow_outputs
    classify = review.image_classify
    # Each scan waits (at most 10 s) until another output's scan is under way too: one output
    # after another, the first would give up and be left pending.
    together = threading.Barrier(2, timeout=10)

    def scan_with_another(content: bytes):
        together.wait()
        return classify(content)

    monkeypatch.setattr(review, "image_classify", scan_with_another)
    generation = make_generation(owner, status=Generation.Status.PROCESSING, num_outputs=2)
    stored = generation_outputs_store(
        generation=generation, urls=[f"{base}/0.png", f"{base}/1.png"], seed=3
    )
    assert sorted(image.index for image in stored) == [0, 1]
    images = GeneratedImage.objects.filter(generation=generation)
    assert set(images.values_list("moderation_state", flat=True)) == {"approved"}
    # In the owner's folder, which the threads named from the owner read before they started.
    assert all(str(owner.public_id) in image.file.name for image in images)
    assert all(image.thumbnail.name for image in images)
