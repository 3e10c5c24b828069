"""Deleting a model or an account deletes what is kept on Replicate too: the model and its
versions, and the training zips (the person's photos) on the Files API; and an account's
webhook-delivery rows, which name its jobs."""

import io
import time
import uuid
import zipfile

import pytest
from django.db import transaction
from django.test import TestCase
from replicate.exceptions import ReplicateError

from accounts.deletion import account_deletion_request, account_erase
from core import replicate_gateway
from core.models import WebhookDelivery
from core.remote_jobs.files import (
    remote_file_remember,
    remote_files_forget,
    remote_files_forget_on_commit,
)
from tests.factories import TEST_PASSWORD
from tests.gallery.factories import make_generation
from tests.trainings.portraits import portrait_jpegs
from trainings.models import LoraModel, TrainingRun
from trainings.services import lora_model_create, lora_model_delete, lora_model_remote_ensure

pytestmark = pytest.mark.django_db


def _remote_model_with_a_version(user, simulator, word):
    lora_model = lora_model_remote_ensure(
        lora_model=lora_model_create(user=user, name="Me", trigger_word=word)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in portrait_jpegs(2):
            archive.writestr(name, data)
    url = replicate_gateway.file_upload(
        data=buffer.getvalue(), filename="p.zip", content_type="application/zip"
    )
    job = replicate_gateway.training_start(
        destination=lora_model.replicate_full_name,
        training_input={"input_images": url},
        webhook_url=None,
    )
    deadline = time.monotonic() + 20
    while not job.is_terminal and time.monotonic() < deadline:
        time.sleep(0.1)
        job = replicate_gateway.training_get(training_id=job.id)
    assert job.status == "succeeded"
    assert simulator.client().models.get(lora_model.replicate_full_name).latest_version
    return lora_model


def _remote_exists(simulator, full_name) -> bool:
    try:
        simulator.client().models.get(full_name)
    except ReplicateError as error:
        assert error.status == 404
        return False
    return True


def test_deleting_a_model_deletes_it_on_replicate(owner, replicate_backend):
    lora_model = _remote_model_with_a_version(owner, replicate_backend, "ZORVAK")
    assert lora_model.replicate_owner == replicate_backend.owner
    lora_model_delete(lora_model=lora_model)
    assert not _remote_exists(replicate_backend, lora_model.replicate_full_name)
    assert not LoraModel.objects.filter(pk=lora_model.pk).exists()


def test_deleting_an_account_deletes_its_remote_models(owner, other_user, replicate_backend):
    mine = _remote_model_with_a_version(owner, replicate_backend, "ZORVAK")
    theirs = _remote_model_with_a_version(other_user, replicate_backend, "KELVOD")
    account_deletion_request(user=owner, password=TEST_PASSWORD)  # its task is not run here
    assert account_erase(user_id=owner.pk)
    assert not _remote_exists(replicate_backend, mine.replicate_full_name)
    assert _remote_exists(replicate_backend, theirs.replicate_full_name)
    # Running the erasure again (a retried task) is harmless.
    account_erase(user_id=owner.pk)


# --- The training zips on the Files API, and webhook deliveries --------------------------------


def _zip_upload() -> str:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in portrait_jpegs(1):
            archive.writestr(name, data)
    return replicate_gateway.file_upload(
        data=buffer.getvalue(), filename="dataset.zip", content_type="application/zip"
    )


def _run(user, *, word: str, **fields) -> TrainingRun:
    return TrainingRun.objects.create(
        owner=user,
        lora_model=lora_model_create(user=user, name=f"Model {word}", trigger_word=word),
        status=TrainingRun.Status.SUCCEEDED,
        replicate_id=f"tr{uuid.uuid4().hex[:24]}",
        **fields,
    )


def test_file_delete_deletes_and_then_finds_it_already_gone(replicate_backend):
    file_id = replicate_gateway.file_id_from_url(_zip_upload())
    assert file_id in replicate_backend.file_ids()
    assert replicate_gateway.file_delete(file_id=file_id) is True
    assert not replicate_backend.file_exists(file_id)
    assert file_id not in replicate_backend.file_ids()
    assert replicate_gateway.file_delete(file_id=file_id) is False  # a 404 is done


@pytest.mark.parametrize(
    "url",
    [
        "https://api.replicate.com/v1/models/avatars/x",
        "https://api.replicate.com/v1/files/../models/avatars/x",
        "https://api.replicate.com/v1/files/",
        "not a url",
    ],
)
def test_only_a_files_api_url_gives_a_file_id(url):
    with pytest.raises(ValueError):
        replicate_gateway.file_id_from_url(url)
    with pytest.raises(ValueError):
        replicate_gateway.file_delete(file_id="../models/avatars/x")


def test_a_runs_zips_are_all_forgotten_and_forgetting_again_is_harmless(owner, replicate_backend):
    run = _run(owner, word="ZORVAK")
    # Two submission attempts, two uploads: the training adopted may use either.
    first = remote_file_remember(job=run, file_url=_zip_upload())
    second = remote_file_remember(job=run, file_url=_zip_upload())
    replicate_gateway.file_delete(file_id=first)  # one already gone (deleted, or expired)
    assert remote_files_forget(job=run) == 1
    assert not replicate_backend.file_exists(second)
    run.refresh_from_db()
    assert run.replicate_file_ids == []
    assert remote_files_forget(job=run) == 0


def test_a_zip_that_could_not_be_deleted_stays_listed_for_later(
    owner, replicate_backend, monkeypatch
):
    run = _run(owner, word="ZORVAK")
    kept = remote_file_remember(job=run, file_url=_zip_upload())
    deleted = remote_file_remember(job=run, file_url=_zip_upload())
    real_delete = replicate_gateway.file_delete

    def flaky_delete(*, file_id):
        if file_id == kept:
            raise replicate_gateway.ReplicateUnavailable("down")
        return real_delete(file_id=file_id)

    monkeypatch.setattr(replicate_gateway, "file_delete", flaky_delete)
    with pytest.raises(replicate_gateway.ReplicateUnavailable):
        remote_files_forget(job=run)
    run.refresh_from_db()
    assert run.replicate_file_ids == [kept]
    assert not replicate_backend.file_exists(deleted)


def test_the_zips_go_once_the_end_of_the_run_commits(owner, replicate_backend):
    run = _run(owner, word="ZORVAK")
    file_id = remote_file_remember(job=run, file_url=_zip_upload())
    with pytest.raises(RuntimeError), transaction.atomic():
        remote_files_forget_on_commit(job=run)
        raise RuntimeError("the run's end rolled back")
    assert replicate_backend.file_exists(file_id)
    with TestCase.captureOnCommitCallbacks(execute=True), transaction.atomic():
        remote_files_forget_on_commit(job=run)
        assert replicate_backend.file_exists(file_id)  # not before the commit
    assert not replicate_backend.file_exists(file_id)


def test_deleting_an_account_leaves_none_of_its_zips_on_replicate_nor_its_deliveries(
    owner, other_user, replicate_backend
):
    mine = _run(owner, word="ZORVAK")
    my_files = {remote_file_remember(job=mine, file_url=_zip_upload()) for _ in range(2)}
    generation = make_generation(owner, replicate_id=f"pr{uuid.uuid4().hex[:24]}")
    theirs = _run(other_user, word="KELVOD")
    their_file = remote_file_remember(job=theirs, file_url=_zip_upload())
    their_generation = make_generation(other_user, replicate_id=f"pr{uuid.uuid4().hex[:24]}")
    for remote_id in (
        mine.replicate_id,
        generation.replicate_id,
        theirs.replicate_id,
        their_generation.replicate_id,
    ):
        for event in ("processing", "succeeded"):
            WebhookDelivery.objects.create(
                webhook_id=f"msg_{remote_id}_{event}", remote_id=remote_id, remote_status=event
            )

    account_deletion_request(user=owner, password=TEST_PASSWORD)
    assert account_erase(user_id=owner.pk)

    listed = replicate_backend.file_ids()
    assert not my_files & listed
    assert not any(replicate_backend.file_exists(file_id) for file_id in my_files)
    assert their_file in listed
    remaining = set(WebhookDelivery.objects.values_list("remote_id", flat=True))
    assert remaining == {theirs.replicate_id, their_generation.replicate_id}
    account_erase(user_id=owner.pk)  # again (a retried task): harmless
