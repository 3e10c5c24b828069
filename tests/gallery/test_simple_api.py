"""`POST /api/v1/image/{model_name}`: the simple service's body, checked like every generation.

Its success path with a real generation needs a worker (see test_end_to_end.py); here the
service is stubbed to test the waiting: bounded, capped per process, 202 + Location beyond.
"""

from __future__ import annotations

import threading
import time

import pytest
from django.core.files.storage import default_storage
from django.db import connection

from gallery import services
from gallery.apis.simple_image import WAIT_SLOTS
from gallery.forms import GenerationForm
from gallery.models import GeneratedImage, Generation, StyleLora, StylePreset
from gallery.services.parameters import MAX_PROMPT
from tests.gallery.factories import make_generation, make_image
from tests.simulator_fixtures import wait_until

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
    StylePreset.objects.all().delete()  # the packs the migration installs
    StylePreset.objects.create(name="Studio", prompt_template="a photo of {trigger}")
    StylePreset.objects.create(name="Hidden", prompt_template="x", is_active=False)
    StyleLora.objects.create(name="Ink", extra_lora="someone/ink", default_scale=0.8)
    client = as_user(owner)
    presets = client.get("/api/v1/presets/").json()["results"]
    assert [preset["name"] for preset in presets] == ["Studio"]
    assert presets[0]["prompt_template"] == "a photo of {trigger}"
    styles = client.get("/api/v1/styles/").json()["results"]
    assert styles[0]["default_scale"] == 0.8 and styles[0]["extra_lora"] == "someone/ink"
    assert api.get("/api/v1/presets/").status_code == 401
    assert api.get("/api/v1/styles/").status_code == 401


# --- Waiting: bounded, and capped per process ------------------------------------------------


@pytest.fixture
def created(owner, monkeypatch):
    """generation_create answers these generations in turn (its own tests are elsewhere), so
    that a test decides when a picture is ready."""
    queue: list[Generation] = []
    monkeypatch.setattr(services, "generation_create", lambda **kwargs: [queue.pop(0)])
    return queue


def test_a_picture_ready_in_time_is_answered_with_its_bytes(owner, as_user, created, settings):
    settings.GENERATION_SYNC_WAIT_SECONDS = 5
    generation = make_generation(owner)
    make_image(owner, generation=generation, index=0, moderation=GeneratedImage.Moderation.PENDING)
    shown = make_image(owner, generation=generation, index=1)
    created.append(generation)
    response = as_user(owner).post("/api/v1/image/default", {"prompt": "x"}, format="json")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Generation-Id"] == str(generation.id)
    assert response["X-Image-Id"] == str(shown.id)  # the first output it may show
    with default_storage.open(shown.file.name, "rb") as handle:
        assert response.content == handle.read()
    assert WAIT_SLOTS.taken == 0


def test_a_failed_generation_is_a_422(owner, as_user, created, settings):
    created.append(
        make_generation(owner, status=Generation.Status.FAILED, error_message="NSFW content")
    )
    response = as_user(owner).post("/api/v1/image/default", {"prompt": "x"}, format="json")
    assert response.status_code == 422 and response.json()["detail"] == "NSFW content"
    assert WAIT_SLOTS.taken == 0


def test_beyond_the_cap_a_caller_gets_202_at_once_and_location_answers(
    owner, as_user, created, settings
):
    settings.GENERATION_SYNC_MAX_WAITERS = 1
    settings.GENERATION_SYNC_WAIT_SECONDS = 20
    generation = make_generation(owner, status=Generation.Status.QUEUED)
    created.append(generation)
    client = as_user(owner)
    assert WAIT_SLOTS.acquire()  # another request of this process is waiting
    try:
        assert not WAIT_SLOTS.acquire()
        started = time.monotonic()
        response = client.post("/api/v1/image/default", {"prompt": "x"}, format="json")
        elapsed = time.monotonic() - started
    finally:
        WAIT_SLOTS.release()
    assert response.status_code == 202
    assert elapsed < 2  # not the 20 s wait
    url = f"http://testserver/api/v1/generations/{generation.id}/"
    assert response["Location"] == url and response.json()["url"] == url
    assert response["Retry-After"] == "2"
    assert response.json()["status"] == "queued" and "not ready" in response.json()["detail"]
    follow = client.get(response["Location"])
    assert follow.status_code == 200 and follow.json()["id"] == str(generation.id)
    assert WAIT_SLOTS.taken == 0


@pytest.mark.django_db(transaction=True)
def test_with_one_caller_waiting_the_next_gets_202_and_the_first_its_picture(
    owner, as_user, created, settings
):
    settings.GENERATION_SYNC_MAX_WAITERS = 1
    settings.GENERATION_SYNC_WAIT_SECONDS = 15
    first = make_generation(owner, status=Generation.Status.QUEUED)
    second = make_generation(owner, status=Generation.Status.QUEUED)
    created.extend([first, second])
    answers = {}

    def wait_for_first():
        try:
            answers["first"] = as_user(owner).post(
                "/api/v1/image/default", {"prompt": "x"}, format="json"
            )
        finally:
            connection.close()

    waiter = threading.Thread(target=wait_for_first)
    waiter.start()
    try:
        wait_until(lambda: WAIT_SLOTS.taken == 1, timeout=5, message="the first never waited")
        started = time.monotonic()
        response = as_user(owner).post("/api/v1/image/default", {"prompt": "x"}, format="json")
        assert time.monotonic() - started < 2
        assert response.status_code == 202
        assert response["Location"] == f"http://testserver/api/v1/generations/{second.id}/"
        image = make_image(owner, generation=first)
        Generation.objects.filter(pk=first.pk).update(status=Generation.Status.SUCCEEDED)
    finally:
        waiter.join(timeout=20)
    assert answers["first"].status_code == 200
    assert answers["first"]["X-Image-Id"] == str(image.id)
    assert WAIT_SLOTS.taken == 0


def test_the_cap_is_a_setting_and_at_least_one(settings):
    settings.GENERATION_SYNC_MAX_WAITERS = 0
    assert WAIT_SLOTS.limit() == 1
    settings.GENERATION_SYNC_MAX_WAITERS = 3
    assert WAIT_SLOTS.limit() == 3


# --- One prompt length limit ------------------------------------------------------------------


def test_prompts_longer_than_the_services_limit_are_refused_everywhere(owner, as_user):
    client = as_user(owner)
    too_long = "x" * (MAX_PROMPT + 1)
    for path in ("/api/v1/image/default", "/api/v1/generations/"):
        response = client.post(path, {"prompt": too_long}, format="json")
        assert response.status_code == 400, path
        assert str(MAX_PROMPT) in response.json()["errors"]["prompt"][0]
    assert not Generation.objects.exists()
    assert GenerationForm(user=owner).fields["prompt"].max_length == MAX_PROMPT
