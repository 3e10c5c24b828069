"""A scan that timed out or failed says nothing about the picture: it is tried again, and a
clean second scan approves the picture without waiting for a moderator. A hold for what the
picture shows is never tried again, and a moderator's decision always stands."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from gallery.models import GeneratedImage, ImageScan
from gallery.services import image_decide, image_scan
from gallery.services.review import image_rescan
from moderation import classifier
from moderation.models import AuditRecord
from tests.gallery.factories import make_generation, make_image

pytestmark = pytest.mark.django_db

Moderation = GeneratedImage.Moderation


@pytest.fixture
def scans(monkeypatch):
    """Counts the classifier's runs, which stay real."""
    calls = []
    real = classifier.image_classify
    monkeypatch.setattr(
        "gallery.services.review.image_classify", lambda data: calls.append(1) or real(data)
    )
    return calls


def _held_by_a_timeout(owner, settings, django_capture_on_commit_callbacks, **fields):
    """An output whose first scan ran past its time (a busy worker); returns it and the
    callbacks its scan left for after the commit."""
    settings.MODERATION_CLASSIFIER_TIMEOUT_SECONDS = 0.000001
    image = make_image(owner, moderation=Moderation.PENDING, **fields)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        image_scan(image=image)
    settings.MODERATION_CLASSIFIER_TIMEOUT_SECONDS = 10.0
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert ImageScan.objects.get(image=image).reason == "classifier_timeout"
    return image, callbacks


def test_a_timed_out_scan_is_tried_again_and_a_clean_result_approves(
    owner, settings, django_capture_on_commit_callbacks, scans
):
    image, callbacks = _held_by_a_timeout(owner, settings, django_capture_on_commit_callbacks)
    assert len(callbacks) == 1  # the second scan, scheduled once the hold is committed

    image_rescan(image=image)

    image.refresh_from_db()
    assert image.moderation_state == Moderation.APPROVED
    assert image.moderation_reason == ""
    scan = ImageScan.objects.get(image=image)
    assert (scan.verdict, scan.reason, scan.attempts) == ("approved", "", 2)
    record = AuditRecord.objects.get(action="image.approved", object_id=str(image.pk))
    assert record.actor is None
    assert len(scans) == 2


def test_the_scheduled_task_runs_the_second_scan(
    owner, settings, django_capture_on_commit_callbacks
):
    image, callbacks = _held_by_a_timeout(owner, settings, django_capture_on_commit_callbacks)
    callbacks[0]()  # what the commit runs: the task, eagerly in unit tests
    image.refresh_from_db()
    assert image.moderation_state == Moderation.APPROVED


def test_a_moderators_decision_before_the_second_scan_stands(
    owner, moderator, settings, django_capture_on_commit_callbacks
):
    image, _ = _held_by_a_timeout(owner, settings, django_capture_on_commit_callbacks)
    image_decide(moderator=moderator, image=image, decision="rejected", reason="Not allowed")

    image_rescan(image=image)

    image.refresh_from_db()
    assert image.moderation_state == Moderation.REJECTED
    assert image.moderation_reason == "Not allowed"


def test_scans_that_keep_failing_stop_at_the_limit_and_leave_it_to_a_moderator(
    owner, settings, django_capture_on_commit_callbacks, scans
):
    settings.MODERATION_SCAN_ATTEMPTS = 3
    image, _ = _held_by_a_timeout(owner, settings, django_capture_on_commit_callbacks)
    settings.MODERATION_CLASSIFIER_TIMEOUT_SECONDS = 0.000001
    scheduled = []
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            image_rescan(image=image)
        scheduled.append(len(callbacks))

    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert ImageScan.objects.get(image=image).attempts == 3
    assert len(scans) == 3  # the first scan and two more, then none
    assert scheduled == [1, 0, 0, 0, 0]  # the last try schedules no other


def test_a_hold_for_what_the_picture_shows_is_never_scanned_again(owner, monkeypatch, scans):
    flagged = classifier.Classification(
        verdict=classifier.Verdict.HELD,
        scores={"FEMALE_BREAST_EXPOSED": 0.9},
        flagged=["FEMALE_BREAST_EXPOSED"],
        reason=classifier.HoldReason.OVER_THRESHOLD,
    )
    image = make_image(owner, moderation=Moderation.PENDING)
    image_scan(image=image, classified=flagged)

    image_rescan(image=image)

    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert ImageScan.objects.get(image=image).attempts == 1
    assert scans == []


def test_a_prompt_rules_hold_is_not_lifted_by_a_second_scan(
    owner, settings, django_capture_on_commit_callbacks
):
    generation = make_generation(owner, review_category="public_figure")
    image, callbacks = _held_by_a_timeout(
        owner, settings, django_capture_on_commit_callbacks, generation=generation
    )
    assert callbacks == []  # a moderator has to look at it whatever the scan says

    image_rescan(image=image)

    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD


def test_a_picture_whose_file_is_gone_stays_held_without_an_error(
    owner, settings, django_capture_on_commit_callbacks, scans
):
    image, _ = _held_by_a_timeout(owner, settings, django_capture_on_commit_callbacks)
    default_storage.delete(image.file.name)

    image_rescan(image=image)

    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert len(scans) == 1  # the first scan only
