"""Outputs of a version the simulator trained are made from that training's photos, with the
person still recognisable (real photos, dlib): what makes likeness scores meaningful in tests.
Other models keep their drawn gradient."""

from __future__ import annotations

import io
import time
import zipfile

import httpx
import pytest

from likeness.faces import SAME_PERSON_DISTANCE, face_distance, faces_find, identity_centre
from tests.people import jpeg_bytes, owner, stranger
from tests.replicate_sim.helpers import TERMINAL, TRAINER, TRAINER_VERSION, open_bytes

PHOTOS = [owner(index) for index in range(3)]


@pytest.fixture(scope="module")
def astronaut_lora(replicate_simulator) -> str:
    """The version id of a LoRA trained on photos of the astronaut."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number, photo in enumerate(PHOTOS):
            archive.writestr(f"me-{number}.jpg", jpeg_bytes(photo))
    buffer.seek(0)
    buffer.name = "photos.zip"
    client = replicate_simulator.client()
    name = f"faces-{int(time.time() * 1000)}"
    client.models.create(
        owner=replicate_simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    training = client.trainings.create(
        model=TRAINER,
        version=TRAINER_VERSION,
        input={"input_images": buffer, "steps": 200, "trigger_word": "TOK"},
        destination=f"{replicate_simulator.owner}/{name}",
    )
    deadline = time.monotonic() + 20
    while training.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.05)
        training.reload()
    assert training.status == "succeeded", training.error
    return training.output["version"].split(":", 1)[1]


@pytest.mark.parametrize("aspect_ratio", ["1:1", "21:9", "9:16"])
def test_outputs_of_a_trained_version_show_the_person_of_its_photos(
    simulator, astronaut_lora, aspect_ratio
):
    prediction = simulator.client().predictions.create(
        version=astronaut_lora,
        input={"prompt": "a photo of TOK on a mountain, a long prompt that wraps in the band",
               "num_outputs": 3, "seed": 5, "aspect_ratio": aspect_ratio},
    )  # fmt: skip
    prediction.wait()
    assert prediction.status == "succeeded", prediction.error
    her = identity_centre([faces_find(photo)[0] for photo in PHOTOS])
    someone_else = faces_find(stranger(2))[0]
    for url in prediction.output:
        faces = faces_find(open_bytes(httpx.get(url, timeout=10).content))
        assert faces, f"no face in an output at {aspect_ratio}"
        assert face_distance(faces[0], her) < SAME_PERSON_DISTANCE / 2
        assert face_distance(faces[0], someone_else) > SAME_PERSON_DISTANCE


def test_the_official_model_draws_no_face(simulator):
    prediction = simulator.client().predictions.create(
        model="black-forest-labs/flux-schnell",
        input={"prompt": "a photo of TOK on a mountain", "seed": 5},
    )
    prediction.wait()
    assert prediction.status == "succeeded", prediction.error
    assert faces_find(open_bytes(httpx.get(prediction.output[0], timeout=10).content)) == []
