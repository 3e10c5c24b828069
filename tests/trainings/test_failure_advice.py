"""The advice a failed training gets: one per kind of failure, never what is already true."""

import pytest

from core.remote_jobs.tasks import SUBMIT_GAVE_UP
from trainings.failure_advice import training_failure_advice, training_failure_kind
from trainings.models import TrainingRun
from trainings.services.runs import plain_error_message

FAILED = TrainingRun.Status.FAILED


def _run(error="", *, status=FAILED, image_count=20, **parameters):
    return TrainingRun(
        status=status,
        error_message=error,
        image_count=image_count,
        parameters={"steps": 1000, "batch_size": 1, "lora_rank": 16, **parameters},
    )


def _text(advice) -> str:
    return " ".join((advice.headline, *advice.steps))


OOM = plain_error_message("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_with_a_big_batch_suggests_a_batch_of_one():
    advice = training_failure_advice(run=_run(OOM, batch_size=4))
    assert advice.kind == "out_of_memory"
    assert "Lower the batch size from 4 to 1." in advice.steps


def test_out_of_memory_never_suggests_a_smaller_batch_when_it_is_already_one():
    advice = training_failure_advice(run=_run(OOM, batch_size=1, resolution="512"))
    assert advice.kind == "out_of_memory"
    assert "batch" not in _text(advice).lower()
    assert "resolution" not in _text(advice).lower()
    assert advice.steps == ("Your settings are already the lightest; try again as they are.",)


def test_out_of_memory_at_full_resolution_suggests_the_smallest_one():
    advice = training_failure_advice(run=_run(OOM, resolution="512,768,1024", lora_rank=64))
    assert any("resolution 512 only" in step for step in advice.steps)
    assert any("LoRA rank from 64 to 16" in step for step in advice.steps)


def test_a_zip_the_trainer_cannot_read_is_about_the_photos():
    error = plain_error_message("input_images must be a zip file")
    advice = training_failure_advice(run=_run(error))
    assert advice.kind == "bad_input"
    assert "could not read the photos" in advice.headline


def test_a_timeout_with_many_steps_suggests_fewer():
    advice = training_failure_advice(run=_run("Training timed out after 3600 s", steps=3000))
    assert advice.kind == "timeout"
    assert "Use fewer steps: 3000 took too long" in _text(advice)
    usual = training_failure_advice(run=_run("deadline exceeded", steps=1000))
    assert usual.kind == "timeout"
    assert "3000" not in _text(usual)


def test_replicate_not_answering_is_not_the_persons_fault():
    advice = training_failure_advice(run=_run(SUBMIT_GAVE_UP.format(noun="training")))
    assert advice.kind == "unavailable"
    assert "Nothing is wrong with your photos or settings." in advice.steps
    assert "batch" not in _text(advice) and "photos:" not in _text(advice)


def test_unsafe_photos_are_named_as_such():
    advice = training_failure_advice(run=_run(plain_error_message("NSFW content detected")))
    assert advice.kind == "unsafe"
    assert "nudity" in _text(advice)


def test_a_cancel_is_the_persons_own_choice():
    advice = training_failure_advice(run=_run(status=TrainingRun.Status.CANCELED))
    assert advice.kind == "canceled"
    assert "nothing was charged" in advice.headline


def test_a_deleted_dataset_asks_for_new_photos():
    advice = training_failure_advice(run=_run("The dataset of this run was deleted."))
    assert advice.kind == "dataset_gone"


@pytest.mark.parametrize(("image_count", "suggests_more"), [(10, True), (20, False), (25, False)])
def test_another_failure_suggests_more_photos_only_when_there_were_few(image_count, suggests_more):
    run = _run("The trainer finished without producing a model version.", image_count=image_count)
    advice = training_failure_advice(run=run)
    assert advice.kind == "other"
    assert advice.headline == run.error_message
    assert any("Add photos" in step for step in advice.steps) is suggests_more


def test_runs_that_did_not_fail_get_no_advice():
    for status in (TrainingRun.Status.SUCCEEDED, TrainingRun.Status.PROCESSING):
        assert training_failure_advice(run=_run(status=status)) is None
    assert training_failure_kind(run=_run("")) == "other"
