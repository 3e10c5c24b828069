"""Trainings on `ostris/flux-dev-lora-trainer`, driven through the real `replicate` client."""

import io
import re
import tarfile
import time

import httpx
import pytest
from replicate.exceptions import ReplicateError

from tests.replicate_sim.helpers import TERMINAL, TRAINER, TRAINER_VERSION, training_zip
from tests.simulator_fixtures import wait_until


def _new_model(simulator) -> str:
    name = f"dest-{time.monotonic_ns()}"
    simulator.client().models.create(
        owner=simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    return f"{simulator.owner}/{name}"


def _finish(training):
    while training.status not in TERMINAL:
        time.sleep(0.05)
        training.reload()
    return training


def test_training_succeeds_with_a_new_lora_version(simulator, trained_lora):
    destination, version_id, training = trained_lora
    client = simulator.client()

    assert (training.model, training.version) == (TRAINER, TRAINER_VERSION)
    assert re.fullmatch(rf"{destination}:[0-9a-f]{{64}}", training.output["version"])
    assert training.destination == destination
    assert training.started_at and training.completed_at
    assert "Extracted 5 files from zip to input_images" in training.logs
    assert "Starting train job" in training.logs
    steps = [int(m) for m in re.findall(r"flux_train_replicate:.*?\| (\d+)/200 ", training.logs)]
    assert steps == sorted(steps) and steps[-1] == 200 and len(steps) >= 4

    model = client.models.get(destination)
    assert model.latest_version.id == version_id
    inputs = model.latest_version.openapi_schema["components"]["schemas"]["Input"]
    assert inputs["required"] == ["prompt"]
    for name in ("image", "mask", "lora_scale", "num_outputs", "go_fast", "megapixels"):
        assert name in inputs["properties"]
    assert (
        "custom"
        in model.latest_version.openapi_schema["components"]["schemas"]["aspect_ratio"]["enum"]
    )

    weights = httpx.get(training.output["weights"], timeout=10)
    assert weights.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(weights.content)) as archive:
        assert "output/flux_train_replicate/lora.safetensors" in archive.getnames()


def test_training_to_a_missing_destination_is_404(simulator):
    with pytest.raises(ReplicateError) as error:
        simulator.client().trainings.create(
            model=TRAINER, version=TRAINER_VERSION, input={"input_images": training_zip(1)},
            destination=f"{simulator.owner}/does-not-exist",
        )  # fmt: skip
    assert error.value.status == 404
    assert error.value.detail == "The specified training destination does not exist"


def test_training_input_is_validated_against_the_trainer_schema(simulator):
    with pytest.raises(ReplicateError) as error:
        simulator.client().trainings.create(
            model=TRAINER, version=TRAINER_VERSION,
            input={"input_images": "https://example.com/x.zip", "steps": 2, "lora_rank": 500,
                   "colour": "red"},
            destination=_new_model(simulator),
        )  # fmt: skip
    assert error.value.status == 422
    lines = error.value.detail.splitlines()
    assert "- input.steps: Must be greater than or equal to 3" in lines
    assert "- input.lora_rank: Must be less than or equal to 128" in lines
    assert "- input: Additional property colour is not allowed" in lines


def test_training_with_a_file_that_is_not_a_zip_fails_like_the_trainer(simulator):
    client = simulator.client()
    not_a_zip = io.BytesIO(b"these are not photos")
    not_a_zip.name = "photos.zip"
    training = client.trainings.create(
        model=TRAINER, version=TRAINER_VERSION, input={"input_images": not_a_zip},
        destination=_new_model(simulator),
    )  # fmt: skip
    assert training.status == "starting"
    _finish(training)
    assert training.status == "failed"
    assert training.error == "input_images must be a zip file"
    assert training.output is None


def test_training_reads_a_data_uri_zip(simulator):
    import base64

    client = simulator.client()
    encoded = base64.b64encode(training_zip(2).getvalue()).decode()
    training = client.trainings.create(
        model=TRAINER, version=TRAINER_VERSION,
        input={"input_images": f"data:application/zip;base64,{encoded}", "steps": 10},
        destination=_new_model(simulator),
    )  # fmt: skip
    _finish(training)
    assert training.status == "succeeded", training.error
    assert "Extracted 3 files from zip to input_images" in training.logs


def test_training_can_be_canceled_and_cancel_is_idempotent(simulator):
    client = simulator.client(headers={"X-Sim-Duration": "30"})
    training = client.trainings.create(
        model=TRAINER, version=TRAINER_VERSION,
        input={"input_images": training_zip(1), "steps": 100},
        destination=_new_model(simulator),
    )  # fmt: skip
    wait_until(lambda: client.trainings.get(training.id).status == "processing")
    canceled = client.trainings.cancel(training.id)
    assert canceled.status == "canceled"
    assert canceled.completed_at is not None
    again = client.trainings.cancel(training.id)
    assert again.status == "canceled"
    assert again.completed_at == canceled.completed_at
    time.sleep(0.2)
    assert client.trainings.get(training.id).status == "canceled"


def test_forced_training_failure_through_the_config(simulator):
    simulator.configure(training_outcome="failed", training_error="out of credits")
    training = simulator.client().trainings.create(
        model=TRAINER, version=TRAINER_VERSION, input={"input_images": training_zip(1)},
        destination=_new_model(simulator),
    )  # fmt: skip
    _finish(training)
    assert training.status == "failed"
    assert training.error == "out of credits"
    assert "Extracted" in training.logs  # it failed while running, not at creation


def test_training_list_is_newest_first(simulator, trained_lora):
    client = simulator.client()
    first = client.trainings.create(
        model=TRAINER, version=TRAINER_VERSION, input={"input_images": training_zip(1)},
        destination=_new_model(simulator),
    )  # fmt: skip
    ids = [t.id for t in client.trainings.list().results]
    assert ids[0] == first.id
    assert trained_lora[2].id in ids
    client.trainings.cancel(first.id)
