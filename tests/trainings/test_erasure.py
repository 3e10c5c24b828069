"""Deleting a model or an account deletes the Replicate model and its versions too."""

import io
import time
import zipfile

import pytest
from replicate.exceptions import ReplicateError

from accounts.deletion import account_deletion_request, account_erase
from core import replicate_gateway
from tests.factories import TEST_PASSWORD
from tests.trainings.portraits import portrait_jpegs
from trainings.models import LoraModel
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
