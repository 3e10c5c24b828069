"""An image-to-image generation's init image and mask are uploaded to Replicate's Files API:
they are the person's pictures, so they are deleted when the generation ends, whatever way it
ends, and at account erasure if that failed."""

import time

import pytest
from django.core.files.base import ContentFile

from accounts.deletion import account_deletion_request, account_erase
from core import replicate_gateway
from core.models import JobStatus
from core.remote_jobs import remote_file_remember
from gallery.services.generations import generation_jobs
from tests.factories import TEST_PASSWORD
from tests.gallery.factories import make_generation, picture, ready_lora_model, train_version

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def trained(replicate_simulator):
    return train_version(replicate_simulator)


def _img2img(user, trained):
    lora_model = ready_lora_model(user, trained, trigger_word="ZORVEK", name="Me")
    generation = make_generation(
        user,
        lora_model=lora_model,
        status=JobStatus.QUEUED,
        prompt_sent=f"ZORVEK at sea {time.monotonic_ns()}",
        parameters={"num_outputs": 1, "prompt_strength": 0.6},
    )
    generation.init_image.save("image.png", ContentFile(picture(fmt="PNG")), save=False)
    generation.mask.save("mask.png", ContentFile(picture((255, 255, 255), fmt="PNG")), save=True)
    return generation


def _submitted(generation, simulator):
    job = generation_jobs.submit(job_id=generation.pk)
    assert job.replicate_id, job.error_message
    assert len(job.replicate_file_ids) == 2  # the init image and the mask
    assert all(simulator.file_exists(file_id) for file_id in job.replicate_file_ids)
    return job


def test_the_uploads_go_once_the_generation_has_succeeded(
    owner, trained, replicate_backend, django_capture_on_commit_callbacks
):
    job = _submitted(_img2img(owner, trained), replicate_backend)
    uploaded = list(job.replicate_file_ids)
    deadline = time.monotonic() + 20
    while not job.is_terminal and time.monotonic() < deadline:
        time.sleep(0.2)
        with django_capture_on_commit_callbacks(execute=True):
            job = generation_jobs.refresh(replicate_id=job.replicate_id)
    assert job.status == JobStatus.SUCCEEDED, job.error_message
    assert not any(replicate_backend.file_exists(file_id) for file_id in uploaded)
    job.refresh_from_db()
    assert job.replicate_file_ids == []


def test_the_uploads_go_when_the_generation_is_canceled(
    owner, trained, replicate_backend, django_capture_on_commit_callbacks
):
    job = _submitted(_img2img(owner, trained), replicate_backend)
    uploaded = list(job.replicate_file_ids)
    with django_capture_on_commit_callbacks(execute=True):
        generation_jobs.cancel(job=job)
    assert not any(replicate_backend.file_exists(file_id) for file_id in uploaded)


def test_uploads_left_behind_go_with_the_account(owner, other_user, trained, replicate_backend):
    mine = _submitted(_img2img(owner, trained), replicate_backend)
    theirs = make_generation(other_user)
    remote_file_remember(
        job=theirs,
        file_url=replicate_gateway.file_upload(
            data=picture(fmt="PNG"), filename="image.png", content_type="image/png"
        ),
    )
    # Their end's deletion is never run here (no commit): as if it had failed.
    account_deletion_request(user=owner, password=TEST_PASSWORD)
    assert account_erase(user_id=owner.pk)
    assert not any(replicate_backend.file_exists(file_id) for file_id in mine.replicate_file_ids)
    assert all(replicate_backend.file_exists(file_id) for file_id in theirs.replicate_file_ids)
