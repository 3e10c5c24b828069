"""Fixtures of the simulator tests.

The simulator fixtures themselves live in tests/simulator_fixtures.py; they are imported here
only until tests/conftest.py imports them (then this file adds nothing, so a full run starts one
simulator process).
"""

import sys
import time

import pytest

from tests.replicate_sim.helpers import TERMINAL, TRAINER, TRAINER_VERSION, training_zip

# pytest loads tests/conftest.py before this file (unless --confcutdir skips it).
if not hasattr(sys.modules.get("tests.conftest"), "replicate_simulator"):
    from tests.simulator_fixtures import (  # noqa: F401 - fixtures are found by name
        make_webhook_receiver,
        replicate_simulator,
        simulator,
        webhook_receiver,
    )


@pytest.fixture(scope="session")
def trained_lora(replicate_simulator):
    """A model trained once per session: ("owner/name", version id, the finished training)."""
    client = replicate_simulator.client()
    name = f"lora-{int(time.time() * 1000)}"
    client.models.create(
        owner=replicate_simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    destination = f"{replicate_simulator.owner}/{name}"
    training = client.trainings.create(
        model=TRAINER,
        version=TRAINER_VERSION,
        input={"input_images": training_zip(), "steps": 200, "trigger_word": "TOK"},
        destination=destination,
    )
    deadline = time.monotonic() + 20
    while training.status not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.05)
        training.reload()
    assert training.status == "succeeded", (training.status, training.error, training.logs)
    version_id = training.output["version"].split(":", 1)[1]
    return destination, version_id, training
