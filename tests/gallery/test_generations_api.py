"""Generations through the API against the simulator: create, credits, validation, ownership,
outputs stored with their metadata, cancel, failure refunds."""

from __future__ import annotations

import pytest

from accounts.models import CreditEntry, Plan
from accounts.selectors import credit_balance
from core import replicate_gateway
from gallery.models import GeneratedImage, Generation

pytestmark = pytest.mark.django_db

URL = "/api/v1/generations/"


def _create(client, capture, **body):
    with capture(execute=True):
        return client.post(URL, body, format="json")


def test_a_generation_reserves_credits_runs_and_stores_its_outputs(
    owner, lora, credits, as_user, finish, django_capture_on_commit_callbacks
):
    client = as_user(owner)
    response = _create(
        client,
        django_capture_on_commit_callbacks,
        lora_model=str(lora.id),
        prompt="a portrait on a beach at sunset",
        num_outputs=2,
        output_format="png",
        seed=1234,
        num_inference_steps=20,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["batch_id"] is None
    created = body["generations"][0]
    assert created["status"] == "queued"  # sent by a task once the request has committed
    assert created["prompt_sent"] == "ZORVEK a portrait on a beach at sunset"
    assert created["cost"] == 8  # 2 pictures on dev at 4 credits
    assert credit_balance(user=owner) == credits - 8
    generation = Generation.objects.get(pk=created["id"])
    assert generation.status in ("starting", "processing")
    sent = replicate_gateway.prediction_get(prediction_id=generation.replicate_id)
    assert sent.input["prompt"] == "ZORVEK a portrait on a beach at sunset"
    assert sent.input["disable_safety_checker"] is False
    assert sent.input["seed"] == 1234
    assert generation.target.endswith(":" + lora.current_version.replicate_version_id)

    finished = finish(generation)
    assert finished.status == Generation.Status.SUCCEEDED
    assert finished.seed_used == 1234
    assert finished.metrics.get("predict_time") is not None
    images = list(finished.images.order_by("index"))
    assert [image.index for image in images] == [0, 1]
    assert all(image.moderation_state == "approved" for image in images)
    assert all(image.format == "png" and image.width == 1024 for image in images)
    kinds = CreditEntry.objects.filter(reference=f"generation:{generation.id}")
    assert sorted(kinds.values_list("kind", flat=True)) == ["capture", "reserve"]
    assert credit_balance(user=owner) == credits - 8

    detail = client.get(created["url"]).json()
    assert detail["status"] == "succeeded"
    assert len(detail["images"]) == 2
    assert detail["images"][0]["thumbnail_url"].endswith("/thumbnail/")
    # Applying the same state again (a duplicate webhook) stores nothing twice.
    finish(generation)
    assert GeneratedImage.objects.filter(generation=generation).count() == 2
    assert CreditEntry.objects.filter(reference=f"generation:{generation.id}").count() == 2


def test_the_default_model_is_flux_schnell_without_lora_inputs(
    owner, credits, as_user, replicate_backend, finish, django_capture_on_commit_callbacks
):
    response = _create(
        as_user(owner),
        django_capture_on_commit_callbacks,
        prompt="a red bicycle",
        guidance_scale=5,
        lora_scale=0.5,
        num_inference_steps=4,
    )
    assert response.status_code == 201, response.json()
    created = response.json()["generations"][0]
    assert created["cost"] == 1
    assert created["model"] == {"id": None, "name": "FLUX schnell (default)"}
    generation = Generation.objects.get(pk=created["id"])
    sent = replicate_gateway.prediction_get(prediction_id=generation.replicate_id)
    assert sent.model == "black-forest-labs/flux-schnell"
    assert "guidance_scale" not in sent.input and "lora_scale" not in sent.input
    assert finish(generation).status == Generation.Status.SUCCEEDED


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"num_outputs": 5}, "num_outputs"),
        ({"num_outputs": 0}, "num_outputs"),
        ({"num_inference_steps": 51}, "num_inference_steps"),
        ({"guidance_scale": 10.5}, "guidance_scale"),
        ({"lora_scale": -1.5}, "lora_scale"),
        ({"extra_lora_scale": 3.5}, "extra_lora_scale"),
        ({"style": "00000000-0000-0000-0000-000000000000"}, "style"),
        ({"output_quality": 101}, "output_quality"),
        ({"output_format": "gif"}, "output_format"),
        ({"megapixels": "2"}, "megapixels"),
        ({"aspect_ratio": "7:5"}, "aspect_ratio"),
        ({"seed": -1}, "seed"),
        ({"prompt_strength": 1.2, "image": "https://example.com/a.png"}, "prompt_strength"),
        ({"width": 512, "height": 512}, "width"),
        ({"aspect_ratio": "custom", "width": 512}, "height"),
        ({"aspect_ratio": "custom", "width": 2000, "height": 512}, "width"),
        ({"prompt": "   "}, "prompt"),
        ({"mask": "https://example.com/m.png"}, "mask"),
        ({"image": "ftp://example.com/a.png"}, "image"),
        ({"image": "data:image/png;base64,bm90IGFuIGltYWdl"}, "image"),
        ({"batch": 9}, "batch"),
    ],
)
def test_out_of_range_inputs_are_refused_by_field_before_anything_is_sent(
    owner, lora, credits, as_user, body, field
):
    body = {"lora_model": str(lora.id), "prompt": "a portrait", **body}
    response = as_user(owner).post(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"], response.json()
    assert not Generation.objects.exists()
    assert credit_balance(user=owner) == credits


def test_the_default_model_refuses_what_it_cannot_do(owner, credits, as_user):
    response = as_user(owner).post(
        URL,
        {
            "prompt": "x",
            "num_inference_steps": 28,
            "aspect_ratio": "custom",
            "width": 512,
            "height": 512,
            "image": "https://example.com/a.png",
        },
        format="json",
    )
    assert response.status_code == 400
    assert {"num_inference_steps", "aspect_ratio", "image"} <= set(response.json()["errors"])


def test_someone_elses_model_is_404_and_anonymous_is_401(
    owner, other_user, other_lora, credits, as_user, api
):
    response = as_user(owner).post(
        URL, {"lora_model": str(other_lora.id), "prompt": "x"}, format="json"
    )
    assert response.status_code == 404
    assert api.post(URL, {"prompt": "x"}, format="json").status_code == 401
    assert api.get(URL).status_code == 401
    assert not Generation.objects.exists()


def test_a_generation_of_someone_else_is_404_everywhere(owner, stranger, as_user):
    from tests.gallery.factories import make_generation

    generation = make_generation(owner, status=Generation.Status.PROCESSING)
    client = as_user(stranger)
    assert client.get(f"{URL}{generation.id}/").status_code == 404
    assert client.post(f"{URL}{generation.id}/cancel/").status_code == 404
    assert client.get(URL).json()["results"] == []
    assert as_user(owner).get(f"{URL}{generation.id}/").status_code == 200


def test_not_enough_credits_is_refused_with_nothing_created(
    owner, lora, as_user, replicate_backend
):
    response = as_user(owner).post(
        URL, {"lora_model": str(lora.id), "prompt": "x", "num_outputs": 4}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "insufficient_credits"
    assert not Generation.objects.exists()


def test_the_daily_limit_counts_pictures(owner, lora, credits, as_user):
    Plan.objects.filter(is_default=True).update(max_generations_per_day=3)
    client = as_user(owner)
    ok = client.post(
        URL, {"lora_model": str(lora.id), "prompt": "x", "num_outputs": 2}, format="json"
    )
    assert ok.status_code == 201
    refused = client.post(
        URL, {"lora_model": str(lora.id), "prompt": "x", "num_outputs": 2}, format="json"
    )
    assert refused.status_code == 429
    assert refused.json()["code"] == "generations_per_day_limit"
    assert "Retry-After" in refused
    assert Generation.objects.count() == 1


def test_a_batch_sends_n_requests_each_with_its_own_seed(
    owner, lora, credits, as_user, finish, django_capture_on_commit_callbacks
):
    response = _create(
        as_user(owner),
        django_capture_on_commit_callbacks,
        lora_model=str(lora.id),
        prompt="x",
        batch=3,
        seed=10,
        model="schnell",
        num_inference_steps=4,
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["batch_id"]
    assert [g["seed"] for g in body["generations"]] == [10, 11, 12]
    assert [g["batch_index"] for g in body["generations"]] == [0, 1, 2]
    assert credit_balance(user=owner) == credits - 3
    for item in body["generations"]:
        assert finish(Generation.objects.get(pk=item["id"])).images.count() == 1


def test_a_failed_prediction_refunds_with_a_plain_message(
    owner, lora, credits, as_user, simulator, finish, django_capture_on_commit_callbacks
):
    simulator.configure(prediction_outcome="failed")
    response = _create(
        as_user(owner), django_capture_on_commit_callbacks, lora_model=str(lora.id), prompt="x"
    )
    generation = Generation.objects.get(pk=response.json()["generations"][0]["id"])
    failed = finish(generation)
    assert failed.status == Generation.Status.FAILED
    assert "safety checker" in failed.error_message
    assert "Traceback" not in failed.error_message
    assert credit_balance(user=owner) == credits
    kinds = CreditEntry.objects.filter(reference=f"generation:{generation.id}")
    assert sorted(kinds.values_list("kind", flat=True)) == ["refund", "reserve"]
    assert not failed.images.exists()


def test_cancel_stops_the_prediction_and_refunds(
    owner, lora, credits, as_user, simulator, django_capture_on_commit_callbacks
):
    simulator.configure(prediction_seconds=5)
    client = as_user(owner)
    response = _create(
        client, django_capture_on_commit_callbacks, lora_model=str(lora.id), prompt="x"
    )
    generation_id = response.json()["generations"][0]["id"]
    canceled = client.post(f"{URL}{generation_id}/cancel/")
    assert canceled.status_code == 200
    assert canceled.json()["status"] == "canceled"
    assert credit_balance(user=owner) == credits
    generation = Generation.objects.get(pk=generation_id)
    remote = replicate_gateway.prediction_get(prediction_id=generation.replicate_id)
    assert remote.status == "canceled"
    assert client.post(f"{URL}{generation_id}/cancel/").status_code == 409


def test_the_list_is_filtered_by_status(owner, as_user):
    from tests.gallery.factories import make_generation

    make_generation(owner, status=Generation.Status.FAILED)
    done = make_generation(owner)
    results = as_user(owner).get(URL, {"status": "succeeded"}).json()["results"]
    assert [item["id"] for item in results] == [str(done.id)]
    assert as_user(owner).get(URL, {"status": "nope"}).status_code == 400
