"""Start-up: flags and environment variables, persistence across restarts, clean shutdown."""

import io
import signal
import time

import httpx
import pytest

from replicate_sim.cli import build_parser, resolve_values
from replicate_sim.settings import OPTIONS
from tests.replicate_sim.helpers import TERMINAL, TRAINER, TRAINER_VERSION, training_zip
from tests.simulator_fixtures import start_simulator, wait_until


def test_flags_win_over_environment_which_wins_over_defaults():
    args = build_parser().parse_args(["--queue-seconds", "2", "--duplicate-webhooks"])
    values = resolve_values(
        args,
        {
            "REPLICATE_SIM_QUEUE_SECONDS": "5",
            "REPLICATE_SIM_TRAINING_SECONDS": "7.5",
            "REPLICATE_SIM_REORDER_WEBHOOKS": "yes",
            "REPLICATE_API_TOKEN": "r8_from_client_env",
            "REPLICATE_OWNER": "alice",
        },
    )
    assert values["queue_seconds"] == 2.0
    assert values["duplicate_webhooks"] is True
    assert values["training_seconds"] == 7.5
    assert values["reorder_webhooks"] is True
    assert values["token"] == "r8_from_client_env"
    assert values["owner"] == "alice"
    assert values["prediction_seconds"] == 4.0
    assert values["output_ttl"] == 3600.0


def test_every_option_has_a_flag_and_an_environment_variable():
    parser = build_parser()
    flags = {action.option_strings[0] for action in parser._actions if action.option_strings}
    for option in OPTIONS:
        assert option.flag in flags
        assert option.env == "REPLICATE_SIM_" + option.name.upper()


def test_invalid_values_stop_the_start(capsys):
    args = build_parser().parse_args(["--failure-rate", "3"])
    with pytest.raises(SystemExit, match="--failure-rate"):
        resolve_values(args, {})


def test_state_survives_a_restart_with_a_data_dir(tmp_path):
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--queue-seconds", "0", "--training-seconds", "0.2",
            "--prediction-seconds", "0.1")  # fmt: skip
    first = start_simulator(tmp_path, *args, token="r8_persist", secret=None)
    try:
        client = first.client()
        client.models.create(
            owner=first.owner, name="kept", visibility="private", hardware="gpu-h100"
        )
        training = client.trainings.create(
            model=TRAINER, version=TRAINER_VERSION, input={"input_images": training_zip(2)},
            destination=f"{first.owner}/kept",
        )  # fmt: skip
        while training.status not in TERMINAL:
            time.sleep(0.05)
            training.reload()
        assert training.status == "succeeded"
        version = training.output["version"]
    finally:
        assert first.stop() == 0

    second = start_simulator(tmp_path, *args, token="r8_persist")
    try:
        client = second.client()
        model = client.models.get(f"{second.owner}/kept")
        assert f"{second.owner}/kept:{model.latest_version.id}" == version
        assert client.trainings.get(training.id).status == "succeeded"
        output = client.run(version, input={"prompt": "TOK", "megapixels": "0.25"})
        assert httpx.get(output[0], timeout=5).status_code == 200
    finally:
        second.stop()


def test_a_killed_simulator_keeps_what_it_saved_a_moment_before(tmp_path):
    data_dir = tmp_path / "data"
    args = ("--data-dir", str(data_dir), "--queue-seconds", "0", "--prediction-seconds", "0.1")
    first = start_simulator(tmp_path, *args, token="r8_killed", secret=None)
    try:
        client = first.client()
        upload = client.files.create(io.BytesIO(b"kept bytes"), filename="kept.txt")
        prediction = client.predictions.create(
            model="black-forest-labs/flux-schnell", input={"prompt": "a lighthouse"}
        )
        prediction.wait()
        assert prediction.status == "succeeded"
        time.sleep(0.5)  # the saver writes within 0.1 s of a change
    finally:
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)

    second = start_simulator(tmp_path, *args, token="r8_killed")
    try:
        client = second.client()
        again = client.predictions.get(prediction.id)
        assert again.status == "succeeded"
        assert [url.split("/delivery/")[1] for url in again.output] == [
            url.split("/delivery/")[1] for url in prediction.output
        ]
        assert httpx.get(again.output[0], timeout=5).status_code == 200
        assert client.files.get(upload.id).size == len(b"kept bytes")
        # Ids handed out after the restart do not collide with the ones before it.
        later = client.predictions.create(
            model="black-forest-labs/flux-schnell", input={"prompt": "a boat"}
        )
        assert [p.id for p in client.predictions.list().results][:2] == [later.id, prediction.id]
        # The prediction finished before the restart still expires after the restart.
        second.configure(output_ttl=0.2)
        wait_until(lambda: httpx.get(again.output[0], timeout=5).status_code == 410, timeout=5)
        assert client.predictions.get(prediction.id).output is None
    finally:
        second.stop()


def test_sigint_stops_the_process_cleanly(tmp_path):
    simulator = start_simulator(tmp_path)
    simulator.process.send_signal(signal.SIGINT)
    assert simulator.process.wait(timeout=10) == 0
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{simulator.base_url}/_sim/health", timeout=2)
    log = simulator.log_text()
    assert f"REPLICATE_API_TOKEN={simulator.token}" in log
    assert f"REPLICATE_WEBHOOK_SECRET={simulator.webhook_secret}" in log
    assert simulator.webhook_secret.startswith("whsec_")


def test_generated_credentials_are_printed_and_work(tmp_path):
    import subprocess
    import sys

    from tests.simulator_fixtures import ROOT, wait_until

    log = tmp_path / "generated.log"
    with open(log, "wb") as handle:
        process = subprocess.Popen(
            [sys.executable, "-m", "replicate_sim", "--port", "0", "--quiet"],
            cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
            env={"PATH": "/usr/bin:/bin"},
        )  # fmt: skip
    try:
        text = wait_until(
            lambda: "REPLICATE_OWNER=" in log.read_text() and log.read_text(), timeout=15
        )
        values = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        assert values["REPLICATE_API_TOKEN"].startswith("r8_")
        assert values["REPLICATE_WEBHOOK_SECRET"].startswith("whsec_")
        assert values["REPLICATE_OWNER"] == "avatars"
        response = httpx.get(
            f"{values['REPLICATE_BASE_URL']}/v1/account",
            headers={"Authorization": f"Bearer {values['REPLICATE_API_TOKEN']}"},
            timeout=5,
        )
        assert response.json()["username"] == "avatars"
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
