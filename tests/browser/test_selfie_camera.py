"""The consent selfie taken with the camera (static/likeness/selfie.js), in a real browser.

Chromium's fake camera plays a Y4M file made here from the owner's photo (another framing of
the astronaut than the dataset's), so the selfie the page captures holds a real face: it is
saved, the training starts without waiting for a moderator, and the model stops asking for a
selfie. The shared `browser` fixture has no camera flags, so this test launches its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from django.db import connections
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from accounts.services import credits_grant
from likeness.models import IdentityCheck
from tests import people
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS
from tests.browser.pages import DESKTOP, shot, sign_in
from tests.factories import UserFactory, verify_email
from tests.likeness.selfie_fixtures import SELFIE_FRAMING, owner_dataset
from tests.trainings.journey import draft_model
from trainings.models import TrainingRun

pytestmark = pytest.mark.browser

CAMERA = (640, 480)  # what a laptop camera gives


def y4m_of(picture: Image.Image, path: Path, *, frames: int = 2) -> Path:
    """A Y4M video showing `picture` still (4:2:0, BT.601 full range as `C420jpeg` says), the
    format Chromium's fake camera reads without any codec."""
    width, height = CAMERA
    frame = Image.new("RGB", CAMERA, (128, 128, 128))
    face = picture.convert("RGB").resize((height, height), Image.LANCZOS)
    frame.paste(face, ((width - height) // 2, 0))
    y, cb, cr = (np.asarray(plane) for plane in frame.convert("YCbCr").split())

    def half(plane: np.ndarray) -> np.ndarray:  # 2 x 2 average: the chroma of 4:2:0
        quads = plane.reshape(height // 2, 2, width // 2, 2).astype(np.uint16)
        return ((quads.sum(axis=(1, 3)) + 2) // 4).astype(np.uint8)

    body = y.tobytes() + half(cb).tobytes() + half(cr).tobytes()
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{width} H{height} F30:1 Ip A1:1 C420jpeg\n".encode())
        for _ in range(frames):
            video.write(b"FRAME\n" + body)
    return path


@pytest.fixture
def camera_page(request, transactional_db, live_server, monkeypatch, tmp_path):
    """A page in a Chromium whose camera shows the owner's face, permission granted."""
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: apt-get install chromium chromium-driver")
    from playwright.sync_api import sync_playwright

    video = y4m_of(people.owner(SELFIE_FRAMING), tmp_path / "owner.y4m")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # see tests/browser/conftest.py
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                *CHROMIUM_ARGS,
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={video}",
            ],
        )
        context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
        context.grant_permissions(["camera"], origin=live_server.url)
        context.set_default_timeout(15_000)
        page = context.new_page()
        yield page
        if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
            page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"), full_page=True)
        context.close()
        browser.close()
        connections.close_all()


def test_a_selfie_taken_with_the_camera_matches_and_the_training_starts(
    camera_page, settings, replicate_backend
):
    settings.LIKENESS_SELFIE_REQUIRED = True
    page = camera_page
    person = UserFactory(email="camera@example.com")
    verify_email(person)
    credits_grant(user=person, amount=1000, reason="test credits")
    lora_model = draft_model(person, trigger_word="ZORCAMERA")
    owner_dataset(person)  # her photos, with face consent: the selfie is compared with them
    model_url = reverse("trainings:model", kwargs={"model_id": lora_model.pk})

    sign_in(page, person.email)
    page.goto(model_url)
    panel = page.get_by_test_id("selfie-panel")
    panel.get_by_role("button", name="Use the camera").click()
    status = panel.locator("[data-selfie-status]")
    expect(status).to_have_text("Look at the camera, then take the selfie.")
    page.wait_for_function("document.querySelector('[data-selfie-video]').videoWidth > 0")
    panel.get_by_role("button", name="Take the selfie").click()
    expect(status).to_have_text("Selfie taken. Save it, or take it again.")
    expect(panel.get_by_role("img", name="The selfie you took")).to_be_visible()
    # The camera is off now: only "Take it again" is offered, not a button that does nothing.
    expect(panel.get_by_role("button", name="Take the selfie")).to_be_hidden()
    expect(panel.get_by_role("button", name="Take it again")).to_be_visible()
    assert page.evaluate("document.getElementById('id_selfie').files.length") == 1
    shot(page, "selfie-camera-taken.png")

    panel.get_by_role("button", name="Save selfie").click()
    page.wait_for_url(f"**{model_url}")
    assert page.get_by_text("Selfie saved. You can start the training now.").is_visible()
    assert page.get_by_test_id("selfie-taken").is_visible()
    check = IdentityCheck.objects.get(lora_model=lora_model)
    assert check.selfie_has_face is True

    page.get_by_role("button", name="Start training").click()
    page.wait_for_url("**/trainings/runs/**")
    assert page.get_by_text("Training queued").is_visible()
    assert page.get_by_test_id("identity-wait").count() == 0  # not held for a moderator
    shot(page, "selfie-camera-matched.png")
    check.refresh_from_db()
    assert check.outcome == IdentityCheck.Outcome.MATCHED
    assert TrainingRun.objects.get(lora_model=lora_model).replicate_id  # sent to the trainer
    page.goto(model_url)
    assert page.get_by_test_id("selfie-panel").count() == 0  # no selfie asked any more
