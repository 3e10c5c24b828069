"""End to end with a real Celery worker, the simulator and its webhooks to the live server.

generate 4 outputs → the webhook's task stores them → gallery page and API show them; img2img
and inpainting send the picture and the mask; a lost webhook is recovered by reconciliation; a
failed prediction refunds; the simple service answers the picture's bytes.
"""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageStat

from accounts.selectors import credit_balance
from accounts.services import credits_grant
from core import replicate_gateway
from gallery.models import Generation
from gallery.services import generation_jobs
from tests.gallery.factories import ready_lora_model
from tests.simulator_fixtures import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def setup(owner, trained_version, live_worker):
    credits_grant(user=owner, amount=500, reason="Test credits")
    return ready_lora_model(owner, trained_version, trigger_word="ZORVEK", name="Me")


def _wait_for(generation_id, *statuses, timeout=30.0) -> Generation:
    def ended():
        generation = Generation.objects.get(pk=generation_id)
        return generation if generation.status in statuses else None

    return wait_until(ended, timeout=timeout, message=f"generation did not reach {statuses}")


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_four_outputs_arrive_by_webhook_and_show_in_the_gallery_and_the_api(
    owner, setup, as_user, browser_as, simulator
):
    client = as_user(owner)
    response = client.post(
        "/api/v1/generations/",
        {"lora_model": str(setup.id), "prompt": "me at the beach", "num_outputs": 4},
        format="json",
    )
    assert response.status_code == 201, response.json()
    generation_id = response.json()["generations"][0]["id"]
    generation = _wait_for(generation_id, Generation.Status.SUCCEEDED)
    assert generation.images.count() == 4
    attempts = simulator.webhook_attempts(generation.replicate_id)
    assert any(a["event"] == "completed" and a["response_status"] == 200 for a in attempts)
    assert credit_balance(user=owner) == 500 - 16

    listed = client.get("/api/v1/images/").json()["results"]
    assert len(listed) == 4
    assert all(item["generation_id"] == generation_id for item in listed)
    thumbnail = client.get(listed[0]["thumbnail_url"])
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    detail = client.get(f"/api/v1/images/{listed[0]['id']}/").json()
    assert detail["generation"]["prompt_sent"] == "ZORVEK me at the beach"
    assert detail["generation"]["seed_used"] is not None
    assert detail["generation"]["metrics"]["predict_time"] > 0

    page = browser_as(owner).get("/gallery/").content.decode()
    for item in listed:
        assert f"/gallery/images/{item['id']}/thumbnail/" in page


def test_img2img_and_inpainting_send_the_picture_and_the_mask(owner, setup, as_user):
    source = Image.new("RGB", (320, 256), (30, 140, 220))
    ImageDraw.Draw(source).ellipse((100, 60, 220, 200), fill=(250, 220, 30))
    mask = Image.new("L", (320, 256), 0)
    ImageDraw.Draw(mask).rectangle((160, 0, 319, 255), fill=255)  # repaint the right half
    client = as_user(owner)
    common = {
        "lora_model": str(setup.id),
        "prompt": "in the style of a poster",
        "output_format": "png",
        "prompt_strength": 1.0,
    }
    img2img = client.post(
        "/api/v1/generations/",
        {**common, "image": io.BytesIO(_png(source))},
        format="multipart",
    )
    inpaint = client.post(
        "/api/v1/generations/",
        {**common, "image": io.BytesIO(_png(source)), "mask": io.BytesIO(_png(mask))},
        format="multipart",
    )
    assert img2img.status_code == 201, img2img.json()
    assert inpaint.status_code == 201, inpaint.json()

    first = _wait_for(img2img.json()["generations"][0]["id"], Generation.Status.SUCCEEDED)
    second = _wait_for(inpaint.json()["generations"][0]["id"], Generation.Status.SUCCEEDED)
    assert (first.kind, second.kind) == ("img2img", "inpaint")
    for generation, sent_mask in ((first, False), (second, True)):
        remote = replicate_gateway.prediction_get(prediction_id=generation.replicate_id)
        assert "/v1/files/" in remote.input["image"]  # uploaded through the Files API
        assert ("/v1/files/" in (remote.input.get("mask") or "")) is sent_mask

    with first.images.get().file.open("rb") as handle, Image.open(handle) as out:
        assert out.size == (320, 256)  # the input picture sets the size
        restyled = out.convert("RGB")
    with second.images.get().file.open("rb") as handle, Image.open(handle) as out:
        inpainted = out.convert("RGB")
    left, right = (0, 0, 160, 200), (160, 0, 320, 200)  # above the caption band
    kept = ImageChops.difference(inpainted.crop(left), source.crop(left))
    assert max(channel[1] for channel in kept.getextrema()) <= 2  # unmasked half untouched
    changed = ImageStat.Stat(ImageChops.difference(inpainted.crop(right), source.crop(right)))
    assert max(changed.mean) > 10  # the masked half was repainted
    # Without a mask the whole picture is restyled, but it is still the picture we sent: the
    # yellow disc stands out from the blue background.
    disc = ImageStat.Stat(restyled.convert("L").crop((140, 110, 180, 150))).mean[0]
    background = ImageStat.Stat(restyled.convert("L").crop((10, 10, 50, 50))).mean[0]
    assert abs(disc - background) > 30


def test_a_lost_webhook_is_recovered_by_reconciliation(owner, setup, as_user, simulator):
    simulator.configure(drop_webhooks=1.0)
    response = as_user(owner).post(
        "/api/v1/generations/",
        {"lora_model": str(setup.id), "prompt": "me", "num_outputs": 2},
        format="json",
    )
    generation_id = response.json()["generations"][0]["id"]
    generation = _wait_for(generation_id, Generation.Status.STARTING, Generation.Status.PROCESSING)
    wait_until(
        lambda: replicate_gateway.prediction_get(prediction_id=generation.replicate_id).is_terminal,
        timeout=10,
    )
    attempts = simulator.webhook_attempts(generation.replicate_id)
    assert attempts and all(attempt["dropped"] for attempt in attempts)
    generation.refresh_from_db()
    assert generation.status != Generation.Status.SUCCEEDED  # nobody told us

    assert generation_jobs.reconcile(quiet_for=timedelta(0)) == 1  # enqueued to the worker
    recovered = _wait_for(generation_id, Generation.Status.SUCCEEDED)
    assert recovered.images.count() == 2


def test_a_failed_prediction_refunds(owner, setup, as_user, simulator):
    simulator.configure(prediction_outcome="failed")
    response = as_user(owner).post(
        "/api/v1/generations/",
        {"lora_model": str(setup.id), "prompt": "me", "num_outputs": 3},
        format="json",
    )
    assert credit_balance(user=owner) == 500 - 12
    failed = _wait_for(response.json()["generations"][0]["id"], Generation.Status.FAILED)
    assert "safety checker" in failed.error_message
    assert credit_balance(user=owner) == 500
    assert not failed.images.exists()


def test_the_simple_service_answers_the_first_pictures_bytes(owner, setup, as_user, settings):
    settings.GENERATION_SYNC_WAIT_SECONDS = 20
    client = as_user(owner)
    response = client.post(
        "/api/v1/image/Me",
        {"prompt": "me with a hat", "output_format": "png", "num_outputs": 2, "seed": 5},
        format="json",
    )
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "image/png"
    with Image.open(io.BytesIO(response.content)) as picture:
        assert picture.format == "PNG" and picture.size == (1024, 1024)
    generation = Generation.objects.get(pk=response["X-Generation-Id"])
    assert generation.source == Generation.Source.SIMPLE_API
    assert generation.images.count() == 2  # the whole generation is in the gallery
    first = generation.images.get(index=0)
    assert response["X-Image-Id"] == str(first.id)
    with first.file.open("rb") as handle:
        assert handle.read() == response.content
    sent = replicate_gateway.prediction_get(prediction_id=generation.replicate_id)
    # Left out means not sent: Replicate applies its own defaults.
    assert "guidance_scale" not in sent.input and "aspect_ratio" not in sent.input
    assert sent.input["disable_safety_checker"] is False
    default = client.post("/api/v1/image/default", {"prompt": "a bicycle"}, format="json")
    assert default.status_code == 200 and default["Content-Type"] == "image/webp"
