"""How a remote job is recognised as the one a job's lost create made.

A prediction matches on its version (or, for an official model, the model), the exact input we
sent and a creation time within the create's window; a training on the trainer, its destination
when Replicate names it, and the input (whose trigger word is unique on the platform). File
inputs are uploaded again by each attempt, so they never count.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.utils import timezone

from core.models import JobStatus
from core.remote_jobs.matching import CLOCK_MARGIN, created_within, input_fingerprint
from core.replicate_gateway import RemoteJob
from gallery.services import generation_jobs
from tests.gallery.factories import make_generation
from trainings.models import Dataset, LoraModel, TrainingRun
from trainings.services.runs import training_run_jobs

TRAINER = "ostris/flux-dev-lora-trainer"
TRAINER_VERSION = "4ffd32160efd92e956d39c5338a9b8fbafca58e03f791f6d8011f3e20e8ea6fa"
VERSION = "a" * 64


def _rfc3339(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# --- The digest of an input ---------------------------------------------------------------------


def test_the_digest_is_the_same_for_what_we_send_and_what_replicate_echoes():
    sent = {"prompt": "TOK at sea", "seed": 7, "guidance_scale": 3.0, "lora_scale": 0.8}
    echoed = {"lora_scale": 0.8, "guidance_scale": 3, "seed": 7.0, "prompt": "TOK at sea"}
    assert input_fingerprint(sent) == input_fingerprint(echoed)


def test_inputs_left_as_none_are_not_sent_so_they_do_not_count():
    assert input_fingerprint({"prompt": "x", "seed": None}) == input_fingerprint({"prompt": "x"})


@pytest.mark.parametrize(
    "other",
    [
        {"prompt": "TOK at sea", "seed": 8},
        {"prompt": "TOK at sea ", "seed": 7},
        {"prompt": "TOK at sea", "seed": 7, "num_outputs": 2},
        {"prompt": "TOK at sea", "seed": 7, "go_fast": True},
        {"prompt": "TOK at sea", "seed": "7"},
    ],
)
def test_any_other_value_is_another_input(other):
    assert input_fingerprint({"prompt": "TOK at sea", "seed": 7}) != input_fingerprint(other)


def test_booleans_are_not_numbers():
    assert input_fingerprint({"go_fast": True}) != input_fingerprint({"go_fast": 1})


def test_file_inputs_are_left_out():
    first = {"prompt": "x", "image": "https://api.replicate.com/v1/files/one"}
    second = {"prompt": "x", "image": "https://api.replicate.com/v1/files/two"}
    assert input_fingerprint(first, exclude={"image"}) == input_fingerprint(
        second, exclude={"image"}
    )
    assert input_fingerprint(first) != input_fingerprint(second)
    stream = {"prompt": "x", "mask": io.BytesIO(b"png")}
    assert input_fingerprint(stream) == input_fingerprint({"prompt": "x"})


def test_created_within_the_window_of_the_intent():
    intent = timezone.now()
    window = timedelta(seconds=60)
    assert created_within(_rfc3339(intent + timedelta(seconds=1)), intent=intent, window=window)
    # Replicate's clock may be a little behind ours.
    assert created_within(_rfc3339(intent - timedelta(seconds=30)), intent=intent, window=window)
    late = intent + window + CLOCK_MARGIN + timedelta(seconds=1)
    assert not created_within(_rfc3339(late), intent=intent, window=window)
    early = intent - CLOCK_MARGIN - timedelta(seconds=1)
    assert not created_within(_rfc3339(early), intent=intent, window=window)
    assert not created_within(None, intent=intent, window=window)


# --- A generation -------------------------------------------------------------------------------


def _submitting(job, sent: dict, *, exclude=frozenset()):
    type(job).objects.filter(pk=job.pk).update(
        status=JobStatus.SUBMITTING,
        submitted_at=timezone.now(),
        submit_fingerprint=input_fingerprint(sent, exclude=exclude),
    )
    job.refresh_from_db()
    return job


def _prediction(**fields) -> RemoteJob:
    values = {
        "id": "p1",
        "status": "starting",
        "model": "avatars/me",
        "version": VERSION,
        "input": {"prompt": "ZORVEK me", "seed": 3},
        "created_at": _rfc3339(timezone.now()),
        **fields,
    }
    return RemoteJob(**values)


@pytest.mark.django_db
def test_a_prediction_matches_on_its_version_and_input(owner):
    job = make_generation(owner, target=f"avatars/me:{VERSION}")
    sent = {"prompt": "ZORVEK me", "seed": 3, "image": "https://x/1"}
    job = _submitting(job, sent, exclude=generation_jobs.file_inputs)
    matches = generation_jobs.remote_matches
    assert matches(job, _prediction(input={"prompt": "ZORVEK me", "seed": 3, "image": "https://y"}))
    assert not matches(job, _prediction(version="b" * 64))
    assert not matches(job, _prediction(input={"prompt": "ZORVEK me", "seed": 4}))
    old = timezone.now() - timedelta(hours=1)
    assert not matches(job, _prediction(created_at=_rfc3339(old)))


@pytest.mark.django_db
def test_a_prediction_on_an_official_model_matches_on_the_model(owner):
    job = make_generation(owner)  # black-forest-labs/flux-schnell
    job = _submitting(job, {"prompt": "a lighthouse"})
    official = {"model": "black-forest-labs/flux-schnell", "version": "hidden"}
    assert generation_jobs.remote_matches(
        job, _prediction(input={"prompt": "a lighthouse"}, **official)
    )
    assert not generation_jobs.remote_matches(
        job, _prediction(input={"prompt": "a lighthouse"}, model="black-forest-labs/flux-dev")
    )


@pytest.mark.django_db
def test_a_job_whose_create_was_not_sent_matches_nothing(owner):
    job = make_generation(owner, status=JobStatus.SUBMITTING)  # no digest: nothing was sent
    assert not generation_jobs.remote_matches(job, _prediction())


# --- A training ---------------------------------------------------------------------------------


@pytest.fixture
def run(owner):
    lora_model = LoraModel.objects.create(
        owner=owner,
        name="Me",
        trigger_word="QUORVIN",
        replicate_owner="avatars",
        replicate_name="quorvin-1",
        status=LoraModel.Status.TRAINING,
    )
    job = TrainingRun.objects.create(
        owner=owner,
        dataset=Dataset.objects.create(owner=owner, name="me"),
        lora_model=lora_model,
        total_steps=500,
    )
    sent = {"input_images": "https://api/v1/files/a", "trigger_word": "QUORVIN", "steps": 500}
    return _submitting(job, sent, exclude=training_run_jobs.file_inputs)


def _training(**fields) -> RemoteJob:
    values = {
        "id": "t1",
        "status": "processing",
        "model": TRAINER,
        "version": TRAINER_VERSION,
        "input": {
            "input_images": "https://api/v1/files/b",
            "trigger_word": "QUORVIN",
            "steps": 500,
        },
        "created_at": _rfc3339(timezone.now()),
        **fields,
    }
    return RemoteJob(**values)


@pytest.mark.django_db
def test_a_training_matches_on_the_trainer_and_its_input(run):
    matches = training_run_jobs.remote_matches
    assert matches(run, _training())  # another upload of the same photos
    assert not matches(run, _training(input={"trigger_word": "OTHERWORD", "steps": 500}))
    assert not matches(run, _training(input={"trigger_word": "QUORVIN", "steps": 1000}))
    assert not matches(run, _training(version="f" * 64))


@pytest.mark.django_db
def test_a_training_that_names_its_destination_must_name_ours(run):
    matches = training_run_jobs.remote_matches
    assert matches(run, _training(destination="avatars/quorvin-1"))
    assert not matches(run, _training(destination="avatars/someone-else"))


def test_the_destination_is_read_from_a_finished_trainings_output():
    finished = RemoteJob.from_payload(
        {
            "id": "t1",
            "status": "succeeded",
            "output": {"version": f"avatars/quorvin-1:{VERSION}", "weights": "https://w"},
        }
    )
    assert finished.destination == "avatars/quorvin-1"
    assert RemoteJob.from_payload({"id": "t1", "status": "processing"}).destination == ""
