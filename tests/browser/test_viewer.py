"""The owner opens a picture from the gallery grid and steps through it in a real browser: the
arrow keys, a swipe, Esc back to the grid; at 390 px wide the picture fits and the controls are
reachable; the share link copies. Screenshots go to the browser tests' folder."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from gallery import imaging
from gallery.services import share_link_create, share_link_token
from tests.browser.pages import DESKTOP, PHONE, page_width, shot, sign_in
from tests.factories import UserFactory, verify_email
from tests.gallery.factories import make_generation, make_image, picture

pytestmark = pytest.mark.browser


def _portrait(owner, *, color, minutes_ago, prompt):
    """A picture the size of a real output (portrait, 768 × 1024)."""
    image = make_image(
        owner,
        generation=make_generation(owner, prompt=prompt),
        color=color,
        created_at=timezone.now() - timedelta(minutes=minutes_ago),
    )
    stored = imaging.output_process(picture(color, size=(768, 1024)), description="test")
    image.file.save("image.webp", ContentFile(stored.content), save=False)
    image.width, image.height = stored.width, stored.height
    image.save()
    return image


def test_the_owner_steps_through_pictures_with_keys_and_swipes(page, browser, live_server):
    owner = verify_email(UserFactory(email="owner@example.com", display_name="Robin"))
    newest = _portrait(owner, color=(220, 120, 80), minutes_ago=1, prompt="a portrait at dusk")
    middle = _portrait(owner, color=(80, 150, 210), minutes_ago=2, prompt="a portrait in snow")
    oldest = _portrait(owner, color=(90, 190, 120), minutes_ago=3, prompt="a portrait in a park")
    share_path = f"/s/{share_link_token(share_link_create(user=owner, image=middle))}/"

    sign_in(page, "owner@example.com")
    page.goto("/gallery/")
    page.locator(f"#image-{newest.id} a").click()
    page.wait_for_url(f"**/gallery/images/{newest.id}/")
    assert page.locator("a[rel=prev]").count() == 0  # the first picture has no previous

    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/gallery/images/{middle.id}/")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(f"**/gallery/images/{oldest.id}/")
    assert page.locator("a[rel=next]").count() == 0  # nor the last a next
    page.keyboard.press("ArrowRight")  # at the end: stays
    page.keyboard.press("ArrowLeft")
    page.wait_for_url(f"**/gallery/images/{middle.id}/")

    # The share link is in a read-only box; "Copy link" puts it on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    box = page.get_by_label("Share link")
    assert box.get_attribute("readonly") is not None
    page.get_by_role("button", name="Copy link").click()
    page.get_by_text("Copied.").wait_for()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == box.input_value() and copied.endswith(share_path)
    shot(page, "viewer-desktop.png", DESKTOP)

    # 390 px wide: the picture fits the screen, and the steps are on screen, big enough to tap.
    shot(page, "viewer-390.png", PHONE)
    picture_box = page.locator(".viewer-picture").bounding_box()
    assert picture_box["x"] >= 0 and picture_box["x"] + picture_box["width"] <= PHONE["width"]
    assert picture_box["height"] <= PHONE["height"]
    for name in ("Previous picture", "Next picture"):
        step = page.get_by_role("link", name=name).bounding_box()
        assert step["y"] + step["height"] <= PHONE["height"] and step["height"] >= 40
        assert step["x"] + step["width"] <= PHONE["width"]
    assert page_width(page) <= PHONE["width"]

    # A swipe to the left on the picture (touch): the next one.
    stage = "[data-viewer-stage]"
    touch = {"pointerType": "touch", "pointerId": 7, "isPrimary": True, "bubbles": True}
    page.dispatch_event(stage, "pointerdown", {**touch, "clientX": 300, "clientY": 400})
    page.dispatch_event(stage, "pointerup", {**touch, "clientX": 120, "clientY": 410})
    page.wait_for_url(f"**/gallery/images/{oldest.id}/")

    # Esc: back to the grid, at the picture.
    page.keyboard.press("Escape")
    page.wait_for_url(f"**/gallery/#image-{oldest.id}")
    assert page.locator(f"#image-{oldest.id}").is_visible()
