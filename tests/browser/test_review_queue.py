"""A moderator works through the review queue in a real browser, with the mouse and with the
keyboard, and the owner then sees the outcome in their gallery. Screenshots of the pages, at
desktop width and 390 px wide, go to the browser tests' folder (var/test-screenshots)."""

import pytest

from accounts.services import user_moderator_grant
from gallery.models import GeneratedImage, ImageReport, ImageScan
from gallery.services import image_report_create, share_link_create, share_link_token
from gallery.services.review import HELD_FOR_REVIEW
from moderation.models import PromptBlock
from tests.browser.pages import DESKTOP, PHONE, shot, sign_in
from tests.factories import UserFactory, verify_email
from tests.gallery.factories import make_generation, make_image

pytestmark = pytest.mark.browser

HELD = GeneratedImage.Moderation.HELD
REASON = "Sexual or explicit pictures are not allowed."


def _held_pictures(owner):
    by_prompt = make_image(
        owner,
        generation=make_generation(
            owner, prompt="a risky prompt on a beach at dusk", review_category="sexual"
        ),
        moderation=HELD,
        moderation_reason=HELD_FOR_REVIEW,
        color=(210, 150, 90),
    )
    by_scan = make_image(
        owner,
        generation=make_generation(owner, prompt="a portrait in the sun, summer dress"),
        moderation=HELD,
        moderation_reason=HELD_FOR_REVIEW,
        color=(90, 140, 200),
    )
    ImageScan.objects.create(
        image=by_scan,
        verdict=ImageScan.Verdict.HELD,
        reason="over_threshold",
        scores={"FEMALE_BREAST_EXPOSED": 0.91, "FACE_FEMALE": 0.62, "BELLY_EXPOSED": 0.31},
        flagged=["FEMALE_BREAST_EXPOSED"],
    )
    return by_prompt, by_scan


def test_a_moderator_clears_the_queue_and_the_owner_sees_the_outcome(page, browser, live_server):
    owner = verify_email(UserFactory(email="owner@example.com", display_name="Robin"))
    # The service, not the group of the data migration: a transactional test may have flushed it.
    user_moderator_grant(user=verify_email(UserFactory(email="mod@example.com")))
    by_prompt, by_scan = _held_pictures(owner)

    # The moderator signs in and finds the queue from the header.
    sign_in(page, "mod@example.com")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Moderation").click()
    page.wait_for_url("**/moderation/")
    first = page.locator(f"#card-{by_prompt.id}")
    second = page.locator(f"#card-{by_scan.id}")
    assert first.get_by_text("Prompt rule: sexual").is_visible()
    assert second.get_by_text("The safety scan flagged this picture.").is_visible()
    assert second.get_by_text("female breast exposed").first.is_visible()
    assert page.get_by_label("Keyboard shortcuts").is_visible()
    shot(page, "review-queue-390.png", PHONE)
    page.set_viewport_size(DESKTOP)

    # j and k move between the cards; x selects the current one and the bulk bar opens.
    page.keyboard.press("j")
    page.wait_for_function(f"() => document.activeElement.id === 'card-{by_scan.id}'")
    page.keyboard.press("k")
    page.wait_for_function(f"() => document.activeElement.id === 'card-{by_prompt.id}'")
    bulk = page.get_by_role("button", name="Reject selected")
    assert not bulk.is_visible()
    page.keyboard.press("x")
    assert first.get_by_label("Select").is_checked()
    assert page.get_by_text("1 selected").is_visible() and bulk.is_visible()
    shot(page, "review-queue-desktop.png", DESKTOP)
    page.keyboard.press("x")
    assert not first.get_by_label("Select").is_checked() and not bulk.is_visible()

    # One with a click: approve the first card; the next one becomes current.
    first.get_by_role("button", name="Approve").click()
    first.get_by_text("sees the picture").wait_for()
    page.wait_for_function(
        f"() => document.getElementById('card-{by_scan.id}').classList.contains('is-current')"
    )

    # One with the keyboard: choose the reason on the card, then press r.
    second.get_by_label("Reason for rejecting").select_option(label="Sexual or explicit")
    second.locator(".review-prompt").click()  # out of the field: keys are shortcuts again
    page.keyboard.press("r")
    second.get_by_text(REASON).wait_for()
    # The script reveals it after the swap settles, a moment after the card's new text.
    page.get_by_text("This page is done.").wait_for(state="visible")
    shot(page, "review-queue-decided-desktop.png", DESKTOP)

    by_prompt.refresh_from_db()
    by_scan.refresh_from_db()
    assert by_prompt.moderation_state == GeneratedImage.Moderation.APPROVED
    assert (by_scan.moderation_state, by_scan.moderation_reason) == ("rejected", REASON)

    # The second tab, with a blocked prompt and an open report.
    other = UserFactory(email="someone@example.com")
    PromptBlock.objects.create(
        user=other, prompt="a very explicit prompt", category="sexual", action="blocked"
    )
    PromptBlock.objects.create(
        user=owner, prompt="a gory battle scene", category="violence", action="review", source="api"
    )
    reported = make_image(other, color=(120, 200, 120))
    image_report_create(
        image=reported,
        reason="This is a picture of me and I never agreed to it.",
        share_link=share_link_create(user=other, image=reported),
    )
    page.get_by_role("link", name="Blocked prompts and reports").first.click()
    page.get_by_text("a very explicit prompt").wait_for()
    assert page.get_by_text("anonymous").first.is_visible()
    shot(page, "review-prompts-desktop.png", DESKTOP)
    shot(page, "review-prompts-390.png", PHONE)

    # The owner, signed in elsewhere, sees one picture and the reason for the other.
    context = browser.new_context(base_url=live_server.url, viewport=DESKTOP)
    owner_page = context.new_page()
    try:
        sign_in(owner_page, "owner@example.com")
        owner_page.get_by_role("navigation", name="Main").get_by_role(
            "link", name="Gallery"
        ).click()
        owner_page.wait_for_url("**/gallery/")
        assert owner_page.get_by_role("link", name="Moderation").count() == 0
        assert owner_page.locator("#gallery-grid img").count() == 1
        owner_page.get_by_label("Status").select_option(label="All")
        owner_page.get_by_role("button", name="Filter").click()
        rejected_tile = owner_page.locator(".thumb-checking")
        rejected_tile.get_by_text("Rejected").wait_for()  # once the filtered page has loaded
        assert rejected_tile.get_by_text(REASON).is_visible()
        assert owner_page.locator("#gallery-grid img").count() == 1  # never the rejected one
        shot(owner_page, "review-owner-gallery-desktop.png", DESKTOP)
        shot(owner_page, "review-owner-gallery-390.png", PHONE)
        rejected_tile.get_by_role("link").click()
        owner_page.get_by_role("status").get_by_text(REASON).wait_for()
        shot(owner_page, "review-owner-image-390.png", PHONE)
    finally:
        context.close()


def test_a_visitor_reports_a_shared_picture_and_moderators_see_it(page, live_server):
    owner = UserFactory(email="owner@example.com")
    image = make_image(owner, color=(230, 180, 120))
    link = share_link_create(user=owner, image=image)

    page.goto(f"/s/{share_link_token(link)}/")
    page.get_by_text("Report this picture").click()
    page.get_by_label("What is wrong with this picture?").fill("This is me, without my consent.")
    shot(page, "share-report-390.png", PHONE)
    page.get_by_role("button", name="Send the report").click()
    page.get_by_text("Thank you for telling us").wait_for()
    shot(page, "share-report-sent-desktop.png", DESKTOP)

    report = ImageReport.objects.get()
    assert (report.image_id, report.reporter, report.status) == (image.id, None, "open")
