"""The design system as a person sees it: buttons that differ by what they do, pages that fit a
390 px phone with the header's links behind a menu, and the custom size fields on the generate
page. Screenshots at desktop width and 390 px go to the browser tests' folder."""

import pytest

from tests.browser.pages import DESKTOP, PHONE, page_width, shot, sign_in
from tests.factories import UserFactory, verify_email

pytestmark = pytest.mark.browser


def _sign_in(page) -> None:
    verify_email(UserFactory(email="sam@example.com", display_name="Sam"))
    sign_in(page, "sam@example.com")


def _background(locator) -> str:
    return locator.evaluate("(element) => getComputedStyle(element).backgroundColor")


def test_primary_secondary_and_danger_buttons_look_different(page):
    _sign_in(page)
    page.goto("/accounts/profile/")
    primary = _background(page.get_by_role("button", name="Save"))
    secondary = _background(page.get_by_role("button", name="Prepare an export"))
    page.goto("/accounts/delete/")
    danger_button = page.get_by_role("button", name="Delete my account for good")
    danger = _background(danger_button)
    keep = _background(page.get_by_role("link", name="Keep my account"))

    assert danger == "rgb(214, 51, 74)"  # the danger colour, on a <button>
    assert len({primary, secondary, danger}) == 3
    assert keep == secondary  # a secondary <a> looks like a secondary <button>
    # The keyboard shows where it is.
    danger_button.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    outline = danger_button.evaluate("(element) => getComputedStyle(element).outlineStyle")
    assert outline == "solid"


def test_pages_fit_a_phone_and_the_header_links_open_from_a_menu(page):
    _sign_in(page)
    page.set_viewport_size(PHONE)
    pages = ("/", "/accounts/profile/", "/generate/", "/trainings/datasets/new/")
    others = (
        "/trainings/models/new/",
        "/accounts/delete/",
        "/credits/buy/",
        "/terms/",
        "/nowhere/",
    )
    for path in pages + others:
        page.goto(path)
        width = page_width(page)
        assert width <= 390, f"{path} is {width}px wide"

    nav = page.get_by_role("navigation", name="Main")
    toggle = page.get_by_role("button", name="Menu", exact=True)
    assert toggle.get_attribute("aria-expanded") == "false"
    assert not nav.get_by_role("link", name="Gallery").is_visible()
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true"
    shot(page, "design-menu-open-phone.png")
    nav.get_by_role("link", name="Gallery").click()
    page.wait_for_url("**/gallery/")

    # At desktop width the links are in the header and there is no menu button.
    page.set_viewport_size(DESKTOP)
    assert (
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").is_visible()
    )
    assert not page.get_by_role("button", name="Menu", exact=True).is_visible()


def test_width_and_height_show_only_for_the_custom_size(page):
    _sign_in(page)
    page.goto("/generate/")
    page.get_by_role("textbox", name="Prompt", exact=True).fill("a photo of me")
    shape, width = page.get_by_label("Shape"), page.locator("input[name=width]")
    assert not width.is_visible() and width.is_disabled()
    shape.select_option("custom")
    assert width.is_visible() and page.locator("input[name=height]").is_visible()
    assert width.is_enabled()
    shape.select_option("16:9")
    assert not width.is_visible()


def test_screenshots_of_the_restyled_pages(page):
    _sign_in(page)
    for path, name in (
        ("/generate/", "generate"),
        ("/trainings/datasets/new/", "new-dataset"),
        ("/accounts/profile/", "profile"),
    ):
        for viewport, size in ((DESKTOP, "desktop"), (PHONE, "phone")):
            page.set_viewport_size(viewport)
            page.goto(path)
            assert page_width(page) <= viewport["width"]
            shot(page, f"design-{name}-{size}.png")
