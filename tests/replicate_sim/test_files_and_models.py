"""Files, models, versions and account endpoints, driven through the real `replicate` client."""

import hashlib
import io
import time

import pytest
from replicate.exceptions import ReplicateError

from tests.replicate_sim.helpers import TERMINAL, TRAINER, TRAINER_VERSION, training_zip


def _unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns()}"


def test_account_hardware_and_webhook_secret(simulator):
    client = simulator.client()
    assert client.accounts.current().username == simulator.owner
    skus = {item.sku for item in client.hardware.list()}
    assert {"cpu", "gpu-t4", "gpu-h100"} <= skus
    assert client.webhooks.default.secret().key == simulator.webhook_secret


def test_file_upload_get_list_and_delete(simulator):
    client = simulator.client()
    content = b"hello simulator" * 10
    created = client.files.create(
        io.BytesIO(content), filename="greeting.txt", metadata={"purpose": "test"}
    )
    assert created.name == "greeting.txt"
    assert created.content_type == "text/plain"
    assert created.size == len(content)
    assert created.etag == hashlib.md5(content, usedforsecurity=False).hexdigest()
    assert created.checksums["sha256"] == hashlib.sha256(content).hexdigest()
    assert created.metadata == {"purpose": "test"}
    assert created.urls["get"] == f"{simulator.base_url}/v1/files/{created.id}"

    assert client.files.get(created.id).etag == created.etag
    assert created.id in [f.id for f in client.files.list()]

    assert client.files.delete(created.id) is True
    with pytest.raises(ReplicateError) as error:
        client.files.get(created.id)
    assert error.value.status == 404
    assert error.value.detail == "File not found"


@pytest.mark.parametrize("size", [2000, 300_000])  # read then refused / refused unread
def test_file_over_the_size_limit_is_413(simulator, size):
    simulator.configure(max_file_size=1000)
    client = simulator.client()
    with pytest.raises(ReplicateError) as error:
        client.files.create(io.BytesIO(b"x" * size), filename="big.bin")
    assert error.value.status == 413
    assert "less than" in error.value.detail
    assert client.files.create(io.BytesIO(b"x" * 999), filename="small.bin").size == 999


def test_model_create_get_list_and_delete(simulator):
    client = simulator.client()
    name = _unique("model")
    model = client.models.create(
        owner=simulator.owner,
        name=name,
        visibility="private",
        hardware="gpu-h100",
        description="made by a test",
    )
    assert (model.owner, model.name, model.visibility) == (simulator.owner, name, "private")
    assert model.latest_version is None
    assert model.run_count == 0

    fetched = client.models.get(f"{simulator.owner}/{name}")
    assert fetched.description == "made by a test"
    assert name in [m.name for m in client.models.list().results]

    assert client.models.delete(f"{simulator.owner}/{name}") is True
    with pytest.raises(ReplicateError) as error:
        client.models.get(f"{simulator.owner}/{name}")
    assert error.value.status == 404


def test_model_create_refuses_other_owners_duplicates_and_unknown_hardware(simulator):
    client = simulator.client()
    name = _unique("model")
    with pytest.raises(ReplicateError) as error:
        client.models.create(
            owner="someone-else", name=name, visibility="private", hardware="gpu-h100"
        )
    assert error.value.status == 403

    client.models.create(
        owner=simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    with pytest.raises(ReplicateError) as error:
        client.models.create(
            owner=simulator.owner, name=name, visibility="private", hardware="gpu-h100"
        )
    assert error.value.status == 409

    with pytest.raises(ReplicateError) as error:
        client.models.create(
            owner=simulator.owner,
            name=_unique("model"),
            visibility="private",
            hardware="gpu-quantum",
        )
    assert error.value.status == 422
    assert "- hardware:" in error.value.detail


def test_model_with_versions_is_deleted_only_after_its_versions(simulator):
    client = simulator.client()
    name = _unique("model")
    key = f"{simulator.owner}/{name}"
    client.models.create(
        owner=simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    training = client.trainings.create(
        model=TRAINER, version=TRAINER_VERSION,
        input={"input_images": training_zip(2), "steps": 10}, destination=key,
    )  # fmt: skip
    while training.status not in TERMINAL:
        time.sleep(0.05)
        training.reload()
    assert training.status == "succeeded", training.error

    with pytest.raises(ReplicateError) as error:
        client.models.delete(key)
    assert error.value.status == 409
    assert "versions first" in error.value.detail

    model = client.models.get(key)
    versions = model.versions.list().results
    assert [v.id for v in versions] == [model.latest_version.id]
    assert model.versions.delete(versions[0].id) is True
    assert client.models.get(key).latest_version is None
    assert client.models.delete(key) is True


def test_versions_of_the_seeded_models(simulator):
    client = simulator.client()
    trainer = client.models.get(TRAINER)
    assert trainer.latest_version.id == TRAINER_VERSION
    version = trainer.versions.get(TRAINER_VERSION)
    properties = version.openapi_schema["components"]["schemas"]["Input"]["properties"]
    assert properties["steps"]["minimum"] == 3
    assert properties["steps"]["maximum"] == 6000
    assert properties["lora_rank"]["default"] == 16
    assert properties["input_images"]["format"] == "uri"
    assert properties["hf_token"]["x-cog-secret"] is True

    schnell = client.models.get("black-forest-labs/flux-schnell")
    schema = schnell.latest_version.openapi_schema["components"]["schemas"]
    assert schema["Input"]["required"] == ["prompt"]
    assert schema["Input"]["properties"]["num_inference_steps"]["maximum"] == 4
    assert "custom" not in schema["aspect_ratio"]["enum"]

    with pytest.raises(ReplicateError) as error:
        trainer.versions.get("0" * 64)
    assert error.value.status == 404
