"""Outputs of a version the simulator trained are made from that training's photos, with the
person still recognisable (real photos, dlib): what makes likeness scores meaningful in tests.
Other models keep their drawn gradient."""

from __future__ import annotations

import httpx
import pytest

from likeness.faces import SAME_PERSON_DISTANCE, face_distance, faces_find, identity_centre
from tests.people import owner, stranger
from tests.replicate_sim.helpers import open_bytes, version_trained_on

PHOTOS = [owner(index) for index in range(3)]


@pytest.fixture(scope="module")
def astronaut_lora(replicate_simulator) -> str:
    """The version id of a LoRA trained on photos of the astronaut."""
    return version_trained_on(replicate_simulator, PHOTOS, name_prefix="faces")[1]


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
