"""Listing predictions and trainings the way the real API does, which is what the platform's
look-up of a create whose answer was lost relies on.

`GET /v1/predictions` takes `created_after` / `created_before` and is newest first, 100 to a page;
`GET /v1/trainings` takes no filter. Training objects carry the trainer's model and version and
the input, not the destination (the client derives it from a finished training's output).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.replicate_sim.helpers import TERMINAL, TRAINER, TRAINER_VERSION, training_zip
from tests.simulator_fixtures import wait_until

SCHNELL = "black-forest-labs/flux-schnell"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _create(client, prompt: str) -> str:
    return client.models.predictions.create(model=SCHNELL, input={"prompt": prompt}).id


def test_predictions_filtered_by_creation_time_newest_first(simulator):
    client = simulator.client()
    before = _create(client, "before")
    time.sleep(0.05)
    start = datetime.now(UTC)
    inside = [_create(client, f"inside {i}") for i in range(3)]
    end = datetime.now(UTC)
    time.sleep(0.05)
    after = _create(client, "after")

    window = client.predictions.list(
        f"/v1/predictions?created_after={_iso(start)}&created_before={_iso(end)}"
    )
    assert [p.id for p in window.results] == inside[::-1]
    assert window.results[0].input == {"prompt": "inside 2"}  # the input is echoed
    since = client.predictions.list(f"/v1/predictions?created_after={_iso(start)}")
    assert [p.id for p in since.results] == [after, *inside[::-1]]
    until = client.predictions.list(f"/v1/predictions?created_before={_iso(start)}")
    assert before in [p.id for p in until.results]
    assert not {after, *inside} & {p.id for p in until.results}
    # An offset instead of Z, and a plain date, are ISO 8601 too.
    offset = (start - timedelta(hours=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    with simulator.http() as http:
        answer = http.get("/v1/predictions", params={"created_after": offset})
    assert answer.status_code == 200
    assert {after, *inside} <= {p["id"] for p in answer.json()["results"]}


def test_a_filtered_list_keeps_its_filter_from_page_to_page(simulator):
    simulator.configure(page_size=2)
    client = simulator.client()
    _create(client, "older")
    start = datetime.now(UTC)
    created = [_create(client, f"p{i}") for i in range(5)]
    page = client.predictions.list(f"/v1/predictions?created_after={_iso(start)}")
    seen = [p.id for p in page.results]
    while page.next:
        assert "created_after=" in page.next
        page = client.predictions.list(page.next)
        seen += [p.id for p in page.results]
    assert seen == created[::-1]


def test_pages_hold_100_by_default(simulator):
    assert simulator.config()["page_size"] == 100


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01T00:00:00Z"])
def test_a_malformed_time_filter_is_400(simulator, value):
    with simulator.http() as http:
        answer = http.get("/v1/predictions", params={"created_after": value})
    assert answer.status_code == 400
    assert "created_after" in answer.json()["detail"]


def _new_model(simulator) -> str:
    name = f"dest-{time.monotonic_ns()}"
    simulator.client().models.create(
        owner=simulator.owner, name=name, visibility="private", hardware="gpu-h100"
    )
    return f"{simulator.owner}/{name}"


def test_trainings_list_ignores_time_filters_and_echoes_the_input(simulator):
    client = simulator.client()
    destination = _new_model(simulator)
    training = client.trainings.create(
        model=TRAINER,
        version=TRAINER_VERSION,
        input={"input_images": training_zip(1), "trigger_word": "ZEPHYRA", "steps": 100},
        destination=destination,
    )
    future = _iso(datetime.now(UTC) + timedelta(days=1))
    listed = client.trainings.list(f"/v1/trainings?created_after={future}").results
    assert listed[0].id == training.id  # the filter is not applied: the API has none here
    assert (listed[0].model, listed[0].version) == (TRAINER, TRAINER_VERSION)
    assert listed[0].input["trigger_word"] == "ZEPHYRA" and listed[0].input["steps"] == 100
    with simulator.http() as http:
        raw = http.get("/v1/trainings").json()["results"][0]
    assert raw["id"] == training.id and "destination" not in raw  # not in the API's object

    wait_until(lambda: client.trainings.get(training.id).status in TERMINAL, timeout=15)
    finished = client.trainings.get(training.id)
    assert finished.status == "succeeded"
    assert finished.destination == destination  # the client reads it from output.version


def test_a_create_answered_late_exists_all_the_same(simulator):
    simulator.configure(slow_create_seconds=1.0)
    start = datetime.now(UTC)
    with simulator.http() as http, pytest.raises(httpx.ReadTimeout):
        http.post(
            f"/v1/models/{SCHNELL}/predictions",
            json={"input": {"prompt": "lost answer"}},
            timeout=0.3,
        )
    simulator.configure(slow_create_seconds=0)
    listed = simulator.client().predictions.list(f"/v1/predictions?created_after={_iso(start)}")
    assert [p.input["prompt"] for p in listed.results] == ["lost answer"]
