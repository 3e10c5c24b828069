"""Predictions on trained LoRA versions and official models, driven through the real client."""

import io
import time

import httpx
import pytest
from PIL import Image, ImageChops, ImageStat
from replicate.exceptions import ModelError, ReplicateError

from tests.replicate_sim.helpers import TERMINAL, data_uri, mean_luminance, mean_rgb, open_bytes
from tests.simulator_fixtures import wait_until

SCHNELL = "black-forest-labs/flux-schnell"


def _download(url: str) -> bytes:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, (url, response.status_code)
    return response.content


def _images(prediction) -> list[Image.Image]:
    return [open_bytes(_download(url)) for url in prediction.output]


def test_prediction_on_a_trained_version_is_built_from_the_training_photos(simulator, trained_lora):
    destination, version_id, _training = trained_lora
    client = simulator.client()
    prediction = client.predictions.create(
        version=version_id,
        input={"prompt": "a photo of TOK at the beach", "num_outputs": 3,
               "aspect_ratio": "16:9", "output_format": "png"},
    )  # fmt: skip
    assert prediction.status == "starting"
    assert (prediction.model, prediction.version) == (destination, version_id)
    prediction.wait()
    assert prediction.status == "succeeded", prediction.error
    assert len(prediction.output) == 3
    assert all(url.endswith(f"/out-{i}.png") for i, url in enumerate(prediction.output))
    assert prediction.metrics["predict_time"] > 0
    assert prediction.metrics["total_time"] >= prediction.metrics["predict_time"]
    assert prediction.logs.startswith("Using seed: ")
    assert prediction.progress.percentage == 1.0

    for image in _images(prediction):
        assert image.format == "PNG"
        assert image.size == (1344, 768)
        # The training photos are bright above and dark below; every output keeps that.
        top = mean_luminance(image, (0.3, 0.05, 0.7, 0.25))
        lower = mean_luminance(image, (0.3, 0.72, 0.7, 0.82))
        assert top - lower > 80, (top, lower)


def test_same_seed_gives_the_same_bytes_and_another_seed_does_not(simulator, trained_lora):
    client = simulator.client()
    version_id = trained_lora[1]

    def run(seed: int) -> bytes:
        prediction = client.predictions.create(
            version=version_id,
            input={"prompt": "TOK in a forest", "seed": seed, "megapixels": "0.25"},
        )
        prediction.wait()
        assert prediction.status == "succeeded"
        assert f"Using seed: {seed}" in prediction.logs
        return _download(prediction.output[0])

    first, second, other = run(42), run(42), run(43)
    assert first == second
    assert first != other


def test_without_a_seed_one_is_drawn_and_logged(simulator):
    prediction = simulator.client().models.predictions.create(
        model=SCHNELL, input={"prompt": "a lighthouse"}
    )
    prediction.wait()
    assert prediction.logs.startswith("Using seed: ")
    seed = int(prediction.logs.splitlines()[0].split(": ")[1])
    assert 0 <= seed <= 65535


def test_official_model_by_name_honours_count_format_and_size(simulator):
    client = simulator.client()
    prediction = client.models.predictions.create(
        model=SCHNELL,
        input={"prompt": "a red fox", "num_outputs": 2, "output_format": "jpg",
               "aspect_ratio": "9:16", "megapixels": "0.25", "seed": 7},
    )  # fmt: skip
    assert prediction.model == SCHNELL
    assert prediction.version == "hidden"
    prediction.wait()
    assert prediction.status == "succeeded"
    images = _images(prediction)
    assert [image.format for image in images] == ["JPEG", "JPEG"]
    assert {image.size for image in images} == {(384, 672)}
    assert _download(prediction.output[0]) != _download(prediction.output[1])


def test_replicate_run_by_model_name_and_by_version(simulator, trained_lora):
    client = simulator.client()
    output = client.run(SCHNELL, input={"prompt": "a cat", "output_format": "webp"})
    assert isinstance(output, list) and len(output) == 1
    assert isinstance(output[0], str) and output[0].startswith("http://")
    assert open_bytes(_download(output[0])).format == "WEBP"

    destination, version_id, _training = trained_lora
    output = client.run(f"{destination}:{version_id}", input={"prompt": "TOK", "num_outputs": 2})
    assert len(output) == 2


def test_run_falls_back_to_polling_when_the_sync_wait_times_out(simulator):
    simulator.configure(prediction_seconds=1.0)
    client = simulator.client()
    with client._client as http:  # the raw response: 202, `starting`, Preference-Applied
        response = http.post(
            "/v1/models/black-forest-labs/flux-schnell/predictions",
            json={"input": {"prompt": "slow"}},
            headers={"Prefer": "wait=1"},
            timeout=5,
        )
    assert response.status_code == 202
    assert response.headers["Preference-Applied"] == "wait=1"
    assert response.json()["status"] == "starting"

    started = time.monotonic()
    output = simulator.client().run(SCHNELL, input={"prompt": "slow"}, wait=1)
    assert time.monotonic() - started > 1.0
    assert output and output[0].endswith("out-0.webp")


def test_sync_wait_returns_the_finished_prediction(simulator):
    with simulator.http() as http:
        response = http.post(
            "/v1/models/black-forest-labs/flux-schnell/predictions",
            json={"input": {"prompt": "quick"}},
            headers={"Prefer": "wait"},
        )
    assert response.status_code == 201
    assert response.headers["Preference-Applied"] == "wait"
    assert response.json()["status"] == "succeeded"
    assert len(response.json()["output"]) == 1


@pytest.mark.parametrize("prefer", ["wait=0", "wait=61", "respond-async", "wait=abc"])
def test_malformed_prefer_header_is_400(simulator, prefer):
    with simulator.http() as http:
        response = http.post(
            "/v1/models/black-forest-labs/flux-schnell/predictions",
            json={"input": {"prompt": "x"}},
            headers={"Prefer": prefer},
        )
    assert response.status_code == 400
    assert response.headers["Content-Type"] == "application/problem+json"
    assert "Prefer" in response.json()["detail"]


def test_custom_size_is_rounded_up_to_multiples_of_16(simulator, trained_lora):
    prediction = simulator.client().predictions.create(
        version=trained_lora[1],
        input={"prompt": "TOK", "aspect_ratio": "custom", "width": 300, "height": 500},
    )
    prediction.wait()
    assert prediction.status == "succeeded", prediction.error
    assert _images(prediction)[0].size == (304, 512)


def test_custom_aspect_ratio_without_size_fails_with_the_real_message(simulator, trained_lora):
    destination, version_id, _training = trained_lora
    with pytest.raises(ModelError) as error:
        simulator.client().run(
            f"{destination}:{version_id}", input={"prompt": "TOK", "aspect_ratio": "custom"}
        )
    assert str(error.value) == "width and height must be defined if aspect ratio is 'custom'"
    assert error.value.prediction.status == "failed"


def _split_image() -> Image.Image:
    image = Image.new("RGB", (512, 512), (220, 30, 30))
    image.paste((30, 30, 220), (256, 0, 512, 512))
    return image


def test_image_to_image_output_is_derived_from_the_input(simulator, trained_lora):
    client = simulator.client()
    source = _split_image()
    upload = io.BytesIO(b"")
    source.save(upload, "PNG")
    upload.name = "source.png"
    prediction = client.predictions.create(
        version=trained_lora[1],
        input={"prompt": "TOK", "image": upload, "prompt_strength": 0.5, "output_format": "png"},
    )
    prediction.wait()
    assert prediction.status == "succeeded", prediction.error
    assert prediction.input["image"].startswith(f"{simulator.base_url}/v1/files/")
    output = _images(prediction)[0]
    assert output.size == (512, 512)
    red_side = mean_rgb(output, (0.05, 0.05, 0.45, 0.6))
    blue_side = mean_rgb(output, (0.55, 0.05, 0.95, 0.6))
    assert red_side[0] > red_side[2] + 40, red_side
    assert blue_side[2] > blue_side[0] + 40, blue_side
    # ...and it is not a copy: the prompt strength restyled it.
    assert ImageStat.Stat(ImageChops.difference(output.convert("RGB"), source)).mean != [0, 0, 0]


def test_inpainting_changes_only_the_white_part_of_the_mask(simulator, trained_lora):
    source = _split_image()
    mask = Image.new("L", (512, 512), 0)
    mask.paste(255, (0, 0, 256, 512))  # repaint the left half only
    prediction = simulator.client().predictions.create(
        version=trained_lora[1],
        input={"prompt": "TOK", "image": data_uri(source), "mask": data_uri(mask.convert("RGB")),
               "prompt_strength": 1.0, "output_format": "png", "seed": 5},
    )  # fmt: skip
    prediction.wait()
    assert prediction.status == "succeeded", prediction.error
    output = _images(prediction)[0].convert("RGB")
    diff = ImageChops.difference(output, source)
    kept = ImageStat.Stat(diff.crop((260, 0, 512, 512))).mean
    repainted = ImageStat.Stat(diff.crop((0, 0, 252, 512))).mean
    assert max(kept) < 1.0, kept
    assert max(repainted) > 10, repainted


def test_invalid_input_is_a_422_naming_each_field(simulator, trained_lora):
    client = simulator.client()
    with pytest.raises(ReplicateError) as error:
        client.predictions.create(
            version=trained_lora[1],
            input={"prompt": "TOK", "num_outputs": 5, "aspect_ratio": "2:1", "go_fast": "yes",
                   "colour": "red"},
        )  # fmt: skip
    assert error.value.status == 422
    lines = error.value.detail.splitlines()
    assert "- input.num_outputs: Must be less than or equal to 4" in lines
    assert any(
        line.startswith("- input.aspect_ratio: aspect_ratio must be one of") for line in lines
    )
    assert "- input.go_fast: Invalid type. Expected: boolean, given: string" in lines
    assert "- input: Additional property colour is not allowed" in lines

    with simulator.http() as http:
        response = http.post("/v1/predictions", json={"version": trained_lora[1], "input": {}})
    assert response.status_code == 422
    assert response.json()["invalid_fields"] == [
        {"field": "prompt", "message": "prompt is required"}
    ]


def test_unknown_version_is_404(simulator):
    client = simulator.client()
    for ref in ("f" * 64, f"{simulator.owner}/nope:{'a' * 64}"):
        with pytest.raises(ReplicateError) as error:
            client.predictions.create(version=ref, input={"prompt": "x"})
        assert error.value.status == 404
    with pytest.raises(ReplicateError) as error:
        client.models.predictions.create(model=f"{simulator.owner}/nope", input={"prompt": "x"})
    assert error.value.status == 404


def test_missing_or_wrong_token_is_401(simulator):
    response = httpx.get(f"{simulator.base_url}/v1/predictions", timeout=5)
    assert response.status_code == 401
    assert response.json() == {
        "title": "Unauthenticated",
        "detail": "You did not pass a valid authentication token",
        "status": 401,
    }
    response = httpx.get(
        f"{simulator.base_url}/v1/account",
        timeout=5,
        headers={"Authorization": f"Token {simulator.token}"},
    )
    assert response.status_code == 200
    import replicate

    wrong = replicate.Client(api_token="r8_wrong", base_url=simulator.base_url)
    with pytest.raises(ReplicateError) as error:
        wrong.accounts.current()
    assert error.value.status == 401


def test_cancel_a_running_prediction(simulator):
    client = simulator.client(headers={"X-Sim-Duration": "30"})
    prediction = client.models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    wait_until(lambda: client.predictions.get(prediction.id).status == "processing")
    prediction.cancel()
    assert prediction.status == "canceled"
    assert prediction.output is None
    assert prediction.completed_at is not None
    assert client.predictions.cancel(prediction.id).completed_at == prediction.completed_at
    finished = simulator.client().models.predictions.create(model=SCHNELL, input={"prompt": "y"})
    finished.wait()
    assert client.predictions.cancel(finished.id).status == "succeeded"


def test_progress_is_parseable_while_processing(simulator):
    client = simulator.client(headers={"X-Sim-Duration": "0.8"})
    prediction = client.models.predictions.create(
        model="black-forest-labs/flux-dev", input={"prompt": "x"}
    )

    def partial_progress():
        prediction.reload()
        progress = prediction.progress
        return progress if progress and 0 < progress.current < progress.total else None

    progress = wait_until(partial_progress, timeout=5, interval=0.02)
    assert progress.total == 28
    prediction.wait()
    assert prediction.progress.current == prediction.progress.total == 28


def test_forced_failure_by_header_by_config_and_by_rate(simulator):
    headed = simulator.client(headers={"X-Sim-Outcome": "failed", "X-Sim-Error": "boom"})
    with pytest.raises(ModelError, match=r"^boom$"):
        headed.run(SCHNELL, input={"prompt": "x"})

    simulator.configure(prediction_outcome="failed")
    with pytest.raises(ModelError, match="NSFW"):
        simulator.client().run(SCHNELL, input={"prompt": "x"})

    simulator.configure(prediction_outcome="", failure_rate=1.0)
    prediction = simulator.client().models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    prediction.wait()
    assert prediction.status == "failed"
    assert prediction.output is None
    assert prediction.started_at is not None

    simulator.configure(failure_rate=0.0, prediction_outcome="canceled")
    prediction = simulator.client().models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    prediction.wait()
    assert prediction.status == "canceled"


def test_list_is_paginated_newest_first(simulator):
    simulator.configure(page_size=2)
    client = simulator.client()
    created = [
        client.models.predictions.create(model=SCHNELL, input={"prompt": f"n{i}"}).id
        for i in range(3)
    ]
    first = client.predictions.list()
    assert [p.id for p in first.results] == created[::-1][:2]
    assert first.previous is None and first.next.startswith(simulator.base_url)
    second = client.predictions.list(first.next)
    assert second.results[0].id == created[0]
    back = client.predictions.list(second.previous)
    assert [p.id for p in back.results] == [p.id for p in first.results]


def test_expired_output_is_removed(simulator):
    client = simulator.client()
    prediction = client.models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    prediction.wait()
    url = prediction.output[0]
    assert httpx.get(url, timeout=5).status_code == 200

    assert simulator.expire(prediction.id) == [prediction.id]
    expired = client.predictions.get(prediction.id)
    assert expired.output is None
    assert expired.status == "succeeded"
    assert expired.input == {}
    assert httpx.get(url, timeout=5).status_code == 410
    with simulator.http() as http:
        assert http.get(f"/v1/predictions/{prediction.id}").json()["data_removed"] is True


def test_output_expires_by_itself_after_the_ttl(simulator):
    simulator.configure(output_ttl=0.2)
    prediction = simulator.client().models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    prediction.wait()
    url = prediction.output[0]
    wait_until(lambda: httpx.get(url, timeout=5).status_code == 410, timeout=5)
    prediction.reload()
    assert prediction.output is None


def test_terminal_statuses_only_move_forward(simulator):
    client = simulator.client()
    prediction = client.models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    seen = []
    while True:
        prediction.reload()
        if not seen or seen[-1] != prediction.status:
            seen.append(prediction.status)
        if prediction.status in TERMINAL:
            break
        time.sleep(0.01)
    order = ["starting", "processing", "succeeded"]
    assert seen == [s for s in order if s in seen]
    assert seen[-1] == "succeeded"


def test_cancel_after_header_is_validated_and_sets_a_deadline(simulator):
    url = "/v1/models/black-forest-labs/flux-schnell/predictions"
    with simulator.http() as http:
        too_short = http.post(url, json={"input": {"prompt": "x"}}, headers={"Cancel-After": "2s"})
        malformed = http.post(
            url, json={"input": {"prompt": "x"}}, headers={"Cancel-After": "soon"}
        )
        accepted = http.post(url, json={"input": {"prompt": "x"}}, headers={"Cancel-After": "1m"})
    assert too_short.status_code == 400
    assert malformed.status_code == 400
    assert accepted.status_code == 201
    body = accepted.json()
    assert body["deadline"] > body["created_at"]


def test_web_url_shows_the_prediction(simulator):
    prediction = simulator.client().models.predictions.create(model=SCHNELL, input={"prompt": "x"})
    prediction.wait()
    page = httpx.get(prediction.urls["web"], timeout=5)
    assert page.status_code == 200
    assert "succeeded" in page.text
    assert prediction.output[0] in page.text
