"""`POST /api/v1/image/{model_name}`: the simple service's body, checked like every generation.

Its success path (the picture's bytes) needs a worker: see test_end_to_end.py.
"""

from __future__ import annotations

import pytest

from gallery.models import Generation, StyleLora

pytestmark = pytest.mark.django_db


def test_it_answers_202_with_the_generations_url_when_the_wait_runs_out(
    owner, lora, credits, as_user, settings
):
    settings.GENERATION_SYNC_WAIT_SECONDS = 0
    response = as_user(owner).post(
        f"/api/v1/image/{lora.name}", {"prompt": "me", "num_outputs": 2}, format="json"
    )
    assert response.status_code == 202
    body = response.json()
    generation = Generation.objects.get(pk=body["id"])
    assert body["url"] == f"http://testserver/api/v1/generations/{generation.id}/"
    assert response["Location"] == body["url"]
    assert generation.source == Generation.Source.SIMPLE_API
    assert generation.cost == 8
    # Only what was given is sent, plus the safety checker kept on.
    assert generation.parameters == {"num_outputs": 2, "disable_safety_checker": False}


def test_the_model_is_found_by_name_or_id_and_never_another_users(
    owner, lora, other_lora, credits, as_user, settings
):
    settings.GENERATION_SYNC_WAIT_SECONDS = 0
    client = as_user(owner)
    assert client.post(f"/api/v1/image/{lora.id}", {"prompt": "x"}).status_code == 202
    assert client.post("/api/v1/image/me", {"prompt": "x"}).status_code == 202
    assert client.post(f"/api/v1/image/{other_lora.id}", {"prompt": "x"}).status_code == 404
    assert client.post(f"/api/v1/image/{other_lora.name}", {"prompt": "x"}).status_code == 404
    assert client.post("/api/v1/image/nobody", {"prompt": "x"}).status_code == 404
    assert Generation.objects.count() == 2


def test_anonymous_is_401(api, lora):
    assert api.post(f"/api/v1/image/{lora.name}", {"prompt": "x"}).status_code == 401


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "prompt"),
        ({"prompt": "x", "num_outputs": 8}, "num_outputs"),
        ({"prompt": "x", "guidance_scale": -1}, "guidance_scale"),
        ({"prompt": "x", "aspect_ratio": "custom"}, "width"),
        ({"prompt": "x", "megapixels": "2"}, "megapixels"),
        ({"prompt": "x", "image": "not a url"}, "image"),
        ({"prompt": "x", "mask": "https://example.com/m.png"}, "mask"),
        (
            {
                "prompt": "x",
                "image": "https://example.com/a.png",
                "mask": "data:image/png;base64,iVBORw0KGgo=",
            },
            "mask",
        ),
        ({"prompt": "x", "extra_lora": "someone/some-nsfw-lora"}, "extra_lora"),
        ({"prompt": "x", "extra_lora": "default"}, "extra_lora"),
    ],
)
def test_bad_bodies_are_400_with_the_field(owner, lora, credits, as_user, settings, body, field):
    settings.GENERATION_SYNC_WAIT_SECONDS = 0
    response = as_user(owner).post(f"/api/v1/image/{lora.name}", body, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert not Generation.objects.exists()


def test_the_default_model_takes_no_picture(owner, credits, as_user):
    response = as_user(owner).post(
        "/api/v1/image/default",
        {"prompt": "x", "image": "https://example.com/a.png"},
        format="json",
    )
    assert response.status_code == 400 and "image" in response.json()["errors"]


def test_extra_lora_comes_from_the_catalogue_with_its_scale_and_words(
    owner, lora, credits, as_user, settings
):
    settings.GENERATION_SYNC_WAIT_SECONDS = 0
    StyleLora.objects.create(
        name="Watercolour",
        extra_lora="fofr/flux-watercolour",
        default_scale=0.7,
        trigger_phrase="in watercolour",
    )
    response = as_user(owner).post(
        f"/api/v1/image/{lora.name}",
        {
            "prompt": "me in Paris",
            "extra_lora": "fofr/flux-watercolour",
            "disable_safety_checker": True,
        },
        format="json",
    )
    generation = Generation.objects.get(pk=response.json()["id"])
    assert generation.parameters["extra_lora"] == "fofr/flux-watercolour"
    assert generation.parameters["extra_lora_scale"] == 0.7
    assert generation.parameters["disable_safety_checker"] is False
    assert generation.prompt_sent == "ZORVEK me in Paris, in watercolour"


def test_an_image_url_is_passed_on_not_fetched(owner, lora, credits, as_user, settings):
    settings.GENERATION_SYNC_WAIT_SECONDS = 0
    response = as_user(owner).post(
        f"/api/v1/image/{lora.name}",
        {"prompt": "x", "image": "https://example.com/me.jpg", "prompt_strength": 0.6},
        format="json",
    )
    generation = Generation.objects.get(pk=response.json()["id"])
    assert generation.kind == Generation.Kind.IMG2IMG
    assert generation.init_image_url == "https://example.com/me.jpg"
    assert not generation.init_image
    assert generation.parameters["prompt_strength"] == 0.6


def test_catalogue_lists(owner, as_user, api):
    from gallery.models import StylePreset

    StylePreset.objects.create(name="Studio", prompt_template="a photo of {trigger}")
    StylePreset.objects.create(name="Hidden", prompt_template="x", is_active=False)
    StyleLora.objects.create(name="Ink", extra_lora="someone/ink", default_scale=0.8)
    client = as_user(owner)
    presets = client.get("/api/v1/presets/").json()
    assert [preset["name"] for preset in presets] == ["Studio"]
    assert presets[0]["prompt_template"] == "a photo of {trigger}"
    styles = client.get("/api/v1/styles/").json()
    assert styles[0]["default_scale"] == 0.8 and styles[0]["extra_lora"] == "someone/ink"
    assert api.get("/api/v1/presets/").status_code == 401
    assert api.get("/api/v1/styles/").status_code == 401
