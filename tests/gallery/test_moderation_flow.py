"""Guardrails around generation, end to end in the gallery: a refused prompt never reaches the
Replicate layer and costs nothing, whichever way it comes in; every output is scanned before
anyone sees it; a held picture is invisible everywhere until a moderator approves it; strikes
suspend an account until an administrator lifts the suspension."""

from __future__ import annotations

import base64
import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from accounts.exports import data_export_build, data_export_request
from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_reserve
from core import replicate_gateway
from core.replicate_gateway import RemoteJob
from gallery.models import GeneratedImage, Generation, ImageScan, StylePreset
from gallery.services import generation_jobs, image_decide, image_scan
from moderation import classifier
from moderation.models import PromptBlock, Strike
from moderation.strikes import suspension_active, suspension_lift
from tests.gallery.factories import make_generation, make_image

pytestmark = pytest.mark.django_db

Moderation = GeneratedImage.Moderation

BLOCKED = [
    ("a nude portrait on the beach", "sexual"),
    ("a n u d e portrait", "sexual"),
    ("a n.a.k.e.d woman in the rain", "sexual"),
    ("a photo of me, nak3d, in the forest", "sexual"),
    ("a nûdé painting of me", "sexual"),
    ("n\u200bude selfie", "sexual"),
    ("a 15 year old girl in lingerie", "minors"),
    ("a teen, topless, at a party", "minors"),
    ("me shaking hands with Vladimir Putin", "public_figure"),
    ("a decapitated body covered in blood", "violence"),
]
INNOCENT = [
    "me fencing at the Olympic games",
    "a samurai sword on display in a museum",
    "me in a swimsuit at the pool, summer light",
    "a family picnic with kids at the beach",
    "a young woman in a business suit, studio portrait",
    "in the style of Van Gogh, starry night behind me",
    "me boxing in a ring, dramatic light",
    "a cocktail party in Scunthorpe",
]


def _png_data_uri(color=(90, 140, 200)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), color).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def no_replicate(monkeypatch):
    """Fail the test if anything reaches the Replicate layer."""
    calls = []

    def refuse(**kwargs):
        calls.append(kwargs)
        raise AssertionError("a refused prompt reached the Replicate layer")

    monkeypatch.setattr(replicate_gateway, "prediction_start", refuse)
    return calls


@pytest.mark.parametrize(("prompt", "category"), BLOCKED)
def test_a_refused_prompt_never_leaves_and_costs_nothing(
    prompt, category, owner, credits, as_user, no_replicate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post("/api/v1/generations/", {"prompt": prompt}, format="json")
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == "prompt_blocked"
    assert "prompt" in body["errors"]
    assert not Generation.objects.exists()
    assert credit_balance(user=owner) == credits
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.RESERVE).exists()
    block = PromptBlock.objects.get()
    assert (block.user, block.category, block.action) == (owner, category, "blocked")
    assert str(block.rule_id) not in body["detail"]


def test_the_message_names_the_category_never_the_rule(owner, credits, as_user, no_replicate):
    body = as_user(owner).post("/api/v1/generations/", {"prompt": "a nude selfie"}).json()
    assert "sexual" in body["detail"].lower()
    assert "nude" not in body["detail"].lower()


@pytest.mark.parametrize("prompt", INNOCENT)
def test_innocent_prompts_go_ahead(prompt, owner, credits, as_user, monkeypatch):
    sent = []
    monkeypatch.setattr(
        replicate_gateway,
        "prediction_start",
        lambda **kwargs: sent.append(kwargs) or RemoteJob(id=f"p{len(sent)}", status="starting"),
    )
    response = as_user(owner).post("/api/v1/generations/", {"prompt": prompt}, format="json")
    assert response.status_code == 201, response.json()
    assert not PromptBlock.objects.exists()


def test_every_way_in_is_screened(owner, credits, as_user, browser_as, no_replicate):
    api = as_user(owner)
    assert api.post("/api/v1/image/default", {"prompt": "nude selfie"}).status_code == 400
    form = {
        "prompt": "a n-u-d-e photo",
        "aspect_ratio": "1:1",
        "model": "schnell",
        "num_outputs": "1",
        "batch": "1",
        "num_inference_steps": "4",
        "guidance_scale": "3",
        "lora_scale": "1",
        "output_format": "webp",
        "output_quality": "80",
        "megapixels": "1",
        "prompt_strength": "0.8",
    }
    page = browser_as(owner).post("/generate/", form)
    assert page.status_code == 200
    assert "Sexual content" in page.content.decode()
    preset = StylePreset.objects.create(name="Bad", prompt_template="a nude photo of {trigger}")
    response = api.post(
        "/api/v1/generations/", {"prompt": "", "style_preset": str(preset.id)}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "prompt_blocked"
    assert not Generation.objects.exists()
    assert PromptBlock.objects.filter(user=owner).count() == 3


def test_a_review_rule_lets_it_run_and_holds_every_output(
    owner, credits, as_user, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(
        replicate_gateway,
        "prediction_start",
        lambda **kwargs: RemoteJob(id="p-review", status="starting"),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(owner).post(
            "/api/v1/generations/", {"prompt": "me in lingerie, boudoir photo"}, format="json"
        )
    assert response.status_code == 201, response.json()
    generation = Generation.objects.get()
    assert generation.review_category == "sexual"
    generation_jobs.apply_remote(
        remote=RemoteJob(id="p-review", status="succeeded", output=[_png_data_uri()])
    )
    image = generation.images.get()
    assert image.moderation_state == Moderation.HELD
    assert image.moderation_reason
    assert PromptBlock.objects.get().action == "review"


def _held(owner):
    image = make_image(owner, moderation=Moderation.HELD)
    image.moderation_reason = "A moderator checks this picture before it is shown."
    image.save()
    return image


def test_a_held_picture_is_invisible_in_every_way_until_approved(
    owner, moderator, as_user, browser_as
):
    image = _held(owner)
    api = as_user(owner)
    page = browser_as(owner)
    listed = api.get("/api/v1/images/", {"status": "all"}).json()["results"]
    row = next(item for item in listed if item["id"] == str(image.id))
    assert row["url"] is None and row["thumbnail_url"] is None
    assert row["moderation_state"] == "held"
    for path in (
        f"/api/v1/images/{image.id}/file/",
        f"/api/v1/images/{image.id}/thumbnail/",
        f"/api/v1/images/{image.id}/download/",
    ):
        assert api.get(path).status_code == 404, path
    assert api.post(f"/api/v1/images/{image.id}/avatar/").status_code == 404
    zipped = api.post("/api/v1/images/zip/", {"image_ids": [str(image.id)]}, format="json")
    assert zipped.status_code in (400, 404)
    shared = api.post("/api/v1/share-links/", {"image": str(image.id)}, format="json")
    assert shared.status_code in (400, 404)
    assert page.get(f"/gallery/images/{image.id}/full/").status_code == 404

    image_decide(moderator=moderator, image=image, decision="approved")
    assert api.get(f"/api/v1/images/{image.id}/file/").status_code == 200


def test_the_export_lists_a_held_picture_without_its_file(owner):
    image = _held(owner)
    export = data_export_request(user=owner)
    data_export_build(export_id=export.id)
    export.refresh_from_db()
    with default_storage.open(export.file.name, "rb") as stored:
        names = zipfile.ZipFile(io.BytesIO(stored.read())).namelist()
    assert not any(str(image.id) in name and not name.endswith(".json") for name in names)


def test_each_output_is_scanned_once_even_when_the_task_runs_twice(owner, monkeypatch):
    image = make_image(owner, moderation=Moderation.PENDING)
    calls = []
    real = classifier.image_classify
    monkeypatch.setattr(
        "gallery.services.review.image_classify", lambda data: calls.append(1) or real(data)
    )
    image_scan(image=image)
    image_scan(image=image)
    assert len(calls) == 1
    assert ImageScan.objects.filter(image=image).count() == 1
    image.refresh_from_db()
    assert image.moderation_state == Moderation.APPROVED


def test_a_classifier_that_fails_holds_never_approves(owner, monkeypatch):
    def broken(model, data):
        raise RuntimeError("the model file is corrupt")

    monkeypatch.setattr(classifier, "_detect", broken)
    image = make_image(owner, moderation=Moderation.PENDING)
    image_scan(image=image)
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert ImageScan.objects.get(image=image).reason == "classifier_error"


def test_a_scan_that_raises_is_retried_and_credits_wait_for_it(owner, credits, monkeypatch):
    generation = make_generation(
        owner, status=Generation.Status.PROCESSING, replicate_id="p-scan", cost=4
    )
    credits_reserve(user=owner, amount=4, reason="test", reference=generation.credit_reference)
    real = classifier.image_classify
    failures = iter([RuntimeError("storage hiccup")])

    def flaky(data):
        for error in failures:
            raise error
        return real(data)

    monkeypatch.setattr("gallery.services.review.image_classify", flaky)
    success = RemoteJob(id="p-scan", status="succeeded", output=[_png_data_uri()])
    with pytest.raises(RuntimeError):
        generation_jobs.apply_remote(remote=success)
    generation.refresh_from_db()
    assert generation.status == Generation.Status.PROCESSING  # not succeeded, not captured
    assert generation.images.get().moderation_state == Moderation.PENDING
    assert not CreditEntry.objects.filter(kind=CreditEntry.Kind.CAPTURE).exists()
    done = generation_jobs.apply_remote(remote=success)  # the task's retry, or a poll
    assert done.status == Generation.Status.SUCCEEDED
    assert done.images.get().moderation_state == Moderation.APPROVED
    assert CreditEntry.objects.filter(kind=CreditEntry.Kind.CAPTURE).count() == 1


def test_the_provenance_mark_names_the_platform_not_the_model(owner, monkeypatch):
    generation = make_generation(owner, status=Generation.Status.PROCESSING, replicate_id="p-x")
    Generation.objects.filter(pk=generation.pk).update(model_label="Jane Doe")
    generation_jobs.apply_remote(
        remote=RemoteJob(id="p-x", status="succeeded", output=[_png_data_uri()])
    )
    image = GeneratedImage.objects.get(generation=generation)
    with default_storage.open(image.file.name, "rb") as stored:
        data = stored.read()
    assert b"trainedAlgorithmicMedia" in data
    assert b"Jane Doe" not in data
    assert str(generation.id).encode() in data


def test_strikes_suspend_generating_and_training_until_lifted(
    owner, credits, as_user, settings, no_replicate, admin_user
):
    settings.MODERATION_STRIKE_LIMIT = 2
    api = as_user(owner)
    for prompt in ("a nude selfie", "me, naked, in the snow"):
        assert api.post("/api/v1/generations/", {"prompt": prompt}).status_code == 400
    assert Strike.objects.filter(user=owner).count() == 2
    suspension = suspension_active(user=owner)
    assert suspension is not None
    refused = api.post("/api/v1/generations/", {"prompt": "a lighthouse"}, format="json")
    assert refused.status_code == 403
    assert refused.json()["code"] == "account_suspended"
    assert "appeal" in refused.json()["detail"]
    training = api.post("/api/v1/trainings/", {}, format="json")
    assert training.status_code in (400, 403)
    suspension_lift(suspension=suspension, actor=admin_user, reason="appeal accepted")
    assert suspension_active(user=owner) is None


def test_a_public_figure_prompt_does_not_count_as_a_strike(owner, credits, as_user, no_replicate):
    as_user(owner).post("/api/v1/generations/", {"prompt": "me with Vladimir Putin"})
    assert PromptBlock.objects.filter(category="public_figure").exists()
    assert not Strike.objects.exists()


def test_only_the_platform_turns_the_safety_checker_off(owner, credits, as_user, settings):
    api = as_user(owner)
    body = {"prompt": "a lighthouse", "disable_safety_checker": True}
    assert api.post("/api/v1/generations/", body, format="json").status_code == 201
    assert Generation.objects.get().parameters["disable_safety_checker"] is False
    settings.GENERATION_SAFETY_CHECKER = False
    assert api.post("/api/v1/generations/", {"prompt": "a barn"}, format="json").status_code == 201
    assert Generation.objects.latest("created_at").parameters["disable_safety_checker"] is True


def test_a_held_output_shows_as_being_checked_on_its_generation_page(owner, browser_as):
    generation = make_generation(owner)
    held = make_image(owner, generation=generation, moderation=Moderation.HELD)
    page = browser_as(owner).get(f"/generations/{generation.id}/").content.decode()
    assert "Being checked" in page
    assert f"/gallery/images/{held.id}/" in page
    assert held.file.name not in page


def test_the_api_sends_no_blurred_preview_of_a_held_picture(owner, as_user):
    held = make_image(owner, moderation=Moderation.HELD)
    shown = make_image(owner)
    rows = {
        row["id"]: row
        for row in as_user(owner).get("/api/v1/images/", {"status": "all"}).json()["results"]
    }
    assert rows[str(held.id)]["placeholder"] is None
    assert rows[str(shown.id)]["placeholder"]
