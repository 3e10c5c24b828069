"""The moderation pages (/moderation/): the review queue with why each picture is there, deciding
one or several, the moderators' view of any picture, the blocked prompts and reports tab; the
share page's report form; and what an owner sees of a picture being checked or rejected."""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from accounts.services import user_moderator_grant
from gallery.models import GeneratedImage, ImageReport, ImageScan
from gallery.services import (
    collection_create,
    collection_images_add,
    image_report_create,
    share_link_create,
    share_link_revoke,
    share_link_token,
)
from gallery.services.review import HELD_FOR_REVIEW
from moderation.models import PromptBlock, Strike
from moderation.strikes import strike_add, strikes_counting
from tests.factories import UserFactory
from tests.gallery.factories import make_generation, make_image

pytestmark = pytest.mark.django_db

Moderation = GeneratedImage.Moderation
QUEUE = "/moderation/"
PROMPTS = "/moderation/prompts/"
BULK = "/moderation/bulk/"


def _decide_url(image) -> str:
    return f"/moderation/decide/{image.id}/"


def _file_url(image, variant="file") -> str:
    return f"/moderation/images/{image.id}/{variant}/"


@pytest.fixture
def moderator(db):
    return user_moderator_grant(user=UserFactory(email="mod@example.com"))


@pytest.fixture
def staff_only(db):
    """Staff, but not in the moderator group: no moderation pages."""
    return UserFactory(email="staff@example.com", is_staff=True)


@pytest.fixture
def as_moderator(browser_as, moderator) -> Client:
    return browser_as(moderator)


def held_by_prompt(user, *, category="sexual", prompt="a risky prompt on a beach"):
    generation = make_generation(user, review_category=category, prompt=prompt)
    return make_image(
        user, generation=generation, moderation=Moderation.HELD, moderation_reason=HELD_FOR_REVIEW
    )


def held_by_scan(user, *, prompt="a portrait in the sun"):
    image = make_image(
        user,
        generation=make_generation(user, prompt=prompt),
        moderation=Moderation.HELD,
        moderation_reason=HELD_FOR_REVIEW,
    )
    ImageScan.objects.create(
        image=image,
        verdict=ImageScan.Verdict.HELD,
        reason="over_threshold",
        scores={"FEMALE_BREAST_EXPOSED": 0.91, "FACE_FEMALE": 0.55, "BELLY_COVERED": 0.2},
        flagged=["FEMALE_BREAST_EXPOSED"],
    )
    return image


def reported(user, *, reason="This is me and I never agreed to it"):
    image = make_image(user, generation=make_generation(user, prompt="a picnic in the park"))
    ImageScan.objects.create(image=image, verdict=ImageScan.Verdict.APPROVED)
    link = share_link_create(user=user, image=image)
    image_report_create(image=image, reason=reason, share_link=link)
    return image


def _card_ids(response) -> list[uuid.UUID]:
    return [card["image"].id for card in response.context["cards"]]


def _share_path(link) -> str:
    return f"/s/{share_link_token(link)}/"


# --- The queue ------------------------------------------------------------------------------


def test_the_queue_shows_held_and_reported_pictures_with_why_scores_and_history(
    as_moderator, owner, other_user
):
    by_prompt = held_by_prompt(owner)
    by_scan = held_by_scan(other_user)
    by_report = reported(owner)
    shown = make_image(owner)  # approved, not reported: not for review
    # The owner's past: one picture rejected, which counted a strike.
    make_image(owner, moderation=Moderation.REJECTED)
    strike_add(user=owner, kind="rejected_image", category="sexual", reference="image:past")

    response = as_moderator.get(QUEUE)

    assert response.status_code == 200
    assert _card_ids(response) == [by_prompt.id, by_scan.id, by_report.id]  # oldest first
    html = response.content.decode()
    assert str(shown.id) not in html
    # Why each one is here, in a moderator's words.
    assert "Prompt rule: sexual" in html
    assert "The safety scan flagged this picture." in html
    assert "Reported" in html
    # The picture itself, through the moderators' file view, large.
    assert f'src="{_file_url(by_scan)}"' in html
    # Prompt, owner, model.
    assert "a risky prompt on a beach" in html
    assert "owner@example.com" in html and "other@example.com" in html
    assert "FLUX schnell (default)" in html
    # The classifier's scores, flagged class first.
    assert "flagged: female breast exposed" in html
    assert "0.91" in html and "0.55" in html
    # The open report and its reason; the owner's history.
    assert "1 open report" in html
    assert "This is me and I never agreed to it" in html and "anonymous" in html
    assert "1 of 3 strikes" in html
    assert "1 rejected before" in html
    # Approve, reject with a reason, select for the bulk bar, the keyboard legend.
    assert html.count('name="decision" value="approved"') == 4  # three cards and the bulk bar
    assert 'name="reason_choice"' in html and 'name="reason_text"' in html
    assert html.count('form="review-bulk"') == 3
    assert "<kbd>j</kbd>" in html and "js/review.js" in html


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("reason=prompt", ["by_prompt", "violent"]),
        ("reason=scan", ["by_scan"]),
        ("reason=report", ["by_report"]),
        ("category=violence", ["violent"]),
        ("owner=OTHER@example.com", ["by_scan", "violent"]),
        ("reason=prompt&owner=owner@example.com", ["by_prompt"]),
        ("reason=nonsense", ["by_prompt", "by_scan", "by_report", "violent"]),
    ],
)
def test_the_queue_filters_by_reason_category_and_user(
    as_moderator, owner, other_user, query, expected
):
    images = {
        "by_prompt": held_by_prompt(owner),
        "by_scan": held_by_scan(other_user),
        "by_report": reported(owner),
        "violent": held_by_prompt(other_user, category="violence"),
    }
    response = as_moderator.get(f"{QUEUE}?{query}")
    assert response.status_code == 200
    assert _card_ids(response) == [images[name].id for name in expected]


def test_an_empty_queue_says_so_and_points_to_the_next_step(as_moderator, owner):
    make_image(owner)
    html = as_moderator.get(QUEUE).content.decode()
    assert "Nothing waits for review." in html
    assert f'href="{PROMPTS}"' in html
    filtered = as_moderator.get(f"{QUEUE}?reason=report").content.decode()
    assert "Nothing waits for review with these filters." in filtered
    assert "Clear the filters" in filtered


# --- Deciding -------------------------------------------------------------------------------


def test_approving_from_the_page_shows_the_picture_to_its_owner(as_moderator, browser_as, owner):
    image = held_by_scan(owner)
    owner_client = browser_as(owner)
    assert owner_client.get(f"/gallery/images/{image.id}/file/").status_code == 404

    back = f"{QUEUE}?reason=scan&owner=owner%40example.com"
    response = as_moderator.post(
        _decide_url(image), {"decision": "approved", "reason_text": "", "next": back}
    )

    assert response.status_code == 302 and response["Location"] == back  # filters kept
    image.refresh_from_db()
    assert image.moderation_state == Moderation.APPROVED
    assert image.moderation_reason == ""
    assert image.decisions.get().moderator.email == "mod@example.com"
    page = owner_client.get(f"/gallery/images/{image.id}/").content.decode()
    assert f"/gallery/images/{image.id}/file/" in page and "Being checked" not in page
    assert owner_client.get(f"/gallery/images/{image.id}/file/").status_code == 200
    assert image.id not in _card_ids(as_moderator.get(QUEUE))


def test_rejecting_closes_the_reports_strikes_and_tells_the_owner_why(
    as_moderator, browser_as, owner
):
    image = reported(owner)
    response = as_moderator.post(
        _decide_url(image),
        {
            "decision": "rejected",
            "reason_choice": "Sexual or explicit pictures are not allowed.",
            "reason_text": "Nudity of a real person.",
            "next": "https://evil.example/",
        },
    )

    assert response.status_code == 302 and response["Location"] == QUEUE  # not off the site
    image.refresh_from_db()
    assert image.moderation_state == Moderation.REJECTED
    reason = "Sexual or explicit pictures are not allowed. Nudity of a real person."
    assert image.moderation_reason == reason
    report = ImageReport.objects.get(image=image)
    assert report.status == ImageReport.Status.CLOSED and report.decision is not None
    assert strikes_counting(user=owner) == 1
    assert image.id not in _card_ids(as_moderator.get(QUEUE))

    owner_client = browser_as(owner)
    page = owner_client.get(f"/gallery/images/{image.id}/").content.decode()
    assert "Rejected" in page and reason in page
    assert f"/gallery/images/{image.id}/file/" not in page
    assert owner_client.get(f"/gallery/images/{image.id}/file/").status_code == 404
    grid = owner_client.get("/gallery/?status=rejected").content.decode()
    assert "Rejected" in grid and reason in grid


def test_a_rejection_without_a_reason_gives_the_owner_the_default_one(as_moderator, owner):
    image = held_by_prompt(owner)
    as_moderator.post(_decide_url(image), {"decision": "rejected"})
    image.refresh_from_db()
    assert image.moderation_state == Moderation.REJECTED
    assert (
        image.moderation_reason == "A moderator found that this picture breaks the content rules."
    )


def test_the_page_script_gets_the_decided_card_back(as_moderator, owner):
    image = held_by_prompt(owner)
    response = as_moderator.post(
        _decide_url(image), {"decision": "approved"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="card-{image.id}"' in html and "data-decided" in html and "Approved" in html
    image.refresh_from_db()
    assert image.moderation_state == Moderation.APPROVED


def test_a_bad_decision_changes_nothing_and_says_why(as_moderator, owner):
    image = held_by_prompt(owner)
    response = as_moderator.post(_decide_url(image), {"decision": "delete"}, follow=True)
    assert "Choose approve or reject." in response.content.decode()
    pending = make_image(owner, moderation=Moderation.PENDING)
    refused = as_moderator.post(
        _decide_url(pending), {"decision": "approved"}, headers={"HX-Request": "true"}
    )
    assert "has not been scanned yet" in refused.content.decode()
    assert f'id="card-{pending.id}"' in refused.content.decode()
    image.refresh_from_db()
    pending.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert pending.moderation_state == Moderation.PENDING


def test_deciding_needs_the_csrf_token(browser_as, moderator, owner):
    image = held_by_prompt(owner)
    client = browser_as(moderator, enforce_csrf=True)
    assert client.post(_decide_url(image), {"decision": "approved"}).status_code == 403
    assert client.post(BULK, {"decision": "approved", "image_ids": [image.id]}).status_code == 403
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD


def test_bulk_rejects_the_selected_pictures_with_one_reason(as_moderator, owner, other_user):
    first, second = held_by_prompt(owner), reported(other_user)
    untouched = held_by_scan(owner)
    pending = make_image(owner, moderation=Moderation.PENDING)
    back = f"{QUEUE}?category=sexual"
    response = as_moderator.post(
        BULK,
        {
            "decision": "rejected",
            "reason_choice": "Violent or gory pictures are not allowed.",
            "image_ids": [first.id, second.id, pending.id, "not-an-id"],
            "next": back,
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == back
    html = response.content.decode()
    assert "Rejected 2 pictures." in html and "2 could not be decided" in html
    for image in (first, second):
        image.refresh_from_db()
        assert image.moderation_state == Moderation.REJECTED
        assert image.moderation_reason == "Violent or gory pictures are not allowed."
    assert ImageReport.objects.get(image=second).status == ImageReport.Status.CLOSED
    untouched.refresh_from_db()
    pending.refresh_from_db()
    assert untouched.moderation_state == Moderation.HELD
    assert pending.moderation_state == Moderation.PENDING
    assert Strike.objects.filter(user=other_user).count() == 1


def test_bulk_approves_and_refuses_an_empty_selection(as_moderator, owner):
    images = [held_by_prompt(owner), held_by_scan(owner)]
    empty = as_moderator.post(BULK, {"decision": "approved"}, follow=True)
    assert "Select some pictures" in empty.content.decode()
    as_moderator.post(BULK, {"decision": "approved", "image_ids": [i.id for i in images]})
    assert {i.moderation_state for i in GeneratedImage.objects.all()} == {Moderation.APPROVED}
    assert _card_ids(as_moderator.get(QUEUE)) == []


# --- Who may see these pages ----------------------------------------------------------------


@pytest.mark.parametrize("who", ["owner", "stranger", "staff_only"])
def test_anyone_but_a_moderator_gets_404_on_every_review_route(request, browser_as, owner, who):
    image = held_by_prompt(owner)
    client = browser_as(request.getfixturevalue(who))
    for method, url, data in [
        ("get", QUEUE, None),
        ("get", PROMPTS, None),
        ("get", _file_url(image), None),
        ("get", _file_url(image, "thumbnail"), None),
        ("post", _decide_url(image), {"decision": "approved"}),
        ("get", _decide_url(image), None),  # the wrong method tells nothing either
        ("post", BULK, {"decision": "approved", "image_ids": [image.id]}),
        ("get", BULK, None),
    ]:
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (who, method, url, response.status_code)
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert not image.decisions.exists()
    assert "Moderation" not in client.get("/gallery/").content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(owner):
    image = held_by_prompt(owner)
    anonymous = Client()
    for url in (QUEUE, PROMPTS, _file_url(image)):
        response = anonymous.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert anonymous.post(_decide_url(image), {"decision": "approved"}).status_code == 302
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD


def test_moderators_see_the_moderation_link_in_the_header(as_moderator, browser_as, owner):
    assert f'href="{QUEUE}"' in as_moderator.get("/gallery/").content.decode()
    assert f'href="{QUEUE}"' not in browser_as(owner).get("/gallery/").content.decode()


def test_the_moderators_file_view_serves_any_picture_to_moderators_only(
    as_moderator, browser_as, owner
):
    image = held_by_scan(owner)
    full = as_moderator.get(_file_url(image))
    assert full.status_code == 200 and full["Content-Type"] == "image/webp"
    assert b"".join(full.streaming_content) == image.file.open("rb").read()
    thumbnail = as_moderator.get(_file_url(image, "thumbnail"))
    assert thumbnail.status_code == 200 and thumbnail["Content-Type"] == "image/webp"
    assert as_moderator.get(_file_url(image, "download")).status_code == 404
    assert as_moderator.get(f"/moderation/images/{uuid.uuid4()}/file/").status_code == 404
    # The owner reaches it neither here nor through the gallery's own file view.
    owner_client = browser_as(owner)
    assert owner_client.get(_file_url(image)).status_code == 404
    assert owner_client.get(f"/gallery/images/{image.id}/file/").status_code == 404
    assert owner_client.get(f"/gallery/images/{image.id}/thumbnail/").status_code == 404


# --- Tab two: blocked prompts and reports ---------------------------------------------------


def test_the_second_tab_lists_blocked_prompts_with_filters_and_open_reports(
    as_moderator, owner, other_user
):
    PromptBlock.objects.create(
        user=owner, prompt="a naked prompt", category="sexual", action="blocked", source="web"
    )
    PromptBlock.objects.create(
        user=other_user, prompt="a gory prompt", category="violence", action="review", source="api"
    )
    image = reported(owner, reason="Not a picture anyone should see")

    response = as_moderator.get(PROMPTS)
    assert response.status_code == 200
    html = response.content.decode()
    assert "a naked prompt" in html and "a gory prompt" in html
    assert "Sexual content" in html and "Blocked" in html and "Sent to review" in html
    assert "owner@example.com" in html and "API" in html
    assert "Not a picture anyone should see" in html and "anonymous" in html
    assert _file_url(image, "thumbnail") in html
    assert f"#card-{image.id}" in html  # a link to its card in the queue

    for query, shown, hidden in [
        ("category=violence", "a gory prompt", "a naked prompt"),
        ("action=blocked", "a naked prompt", "a gory prompt"),
        ("source=api", "a gory prompt", "a naked prompt"),
    ]:
        filtered = as_moderator.get(f"{PROMPTS}?{query}").content.decode()
        assert shown in filtered and hidden not in filtered, query


# --- Reporting from a share page ------------------------------------------------------------


def test_anyone_shown_a_picture_can_report_it_and_it_joins_the_queue(as_moderator, owner):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    visitor = Client(enforce_csrf_checks=True)
    page = visitor.get(_share_path(link))
    html = page.content.decode()
    assert "Report this picture" in html
    report_url = f"{_share_path(link)}{image.id}/report/"
    assert f'action="{report_url}"' in html
    token = page.cookies["csrftoken"].value

    response = visitor.post(
        report_url,
        {"reason": "It shows my neighbour", "csrfmiddlewaretoken": token},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == _share_path(link)
    assert "Thank you for telling us" in response.content.decode()
    report = ImageReport.objects.get()
    assert (report.image, report.reporter, report.share_link) == (image, None, link)
    assert report.status == ImageReport.Status.OPEN
    queue = as_moderator.get(f"{QUEUE}?reason=report")
    assert _card_ids(queue) == [image.id]
    assert "It shows my neighbour" in queue.content.decode()
    # Deciding closes it, and the picture is still shared when approved.
    as_moderator.post(_decide_url(image), {"decision": "approved"})
    report.refresh_from_db()
    assert report.status == ImageReport.Status.CLOSED
    assert visitor.get(_share_path(link)).status_code == 200


def test_only_a_picture_the_link_shows_can_be_reported(owner, other_user):
    shared = make_image(owner)
    not_shared = make_image(owner)
    held = make_image(owner, moderation=Moderation.HELD)
    someone_elses = make_image(other_user)
    link = share_link_create(user=owner, image=shared)
    collection = collection_create(user=owner, name="Beach")
    collection_images_add(collection=collection, images=[shared, held])
    collection_link = share_link_create(user=owner, collection=collection)
    visitor = Client()
    for token_link, image in [
        (link, not_shared),
        (link, someone_elses),
        (collection_link, held),  # in the collection, but not shown
        (collection_link, not_shared),
    ]:
        url = f"{_share_path(token_link)}{image.id}/report/"
        assert visitor.post(url, {"reason": "bad"}).status_code == 404, image
    assert visitor.post(f"/s/forged/{shared.id}/report/", {"reason": "bad"}).status_code == 404
    # A collection link's pictures each have the form; a revoked link none.
    page = visitor.get(_share_path(collection_link)).content.decode()
    assert f"{_share_path(collection_link)}{shared.id}/report/" in page
    assert (
        visitor.post(
            f"{_share_path(collection_link)}{shared.id}/report/", {"reason": "bad"}
        ).status_code
        == 302
    )
    share_link_revoke(link=link)
    assert (
        visitor.post(f"{_share_path(link)}{shared.id}/report/", {"reason": "bad"}).status_code
        == 404
    )
    assert visitor.get(f"{_share_path(link)}{shared.id}/report/").status_code == 405
    assert ImageReport.objects.count() == 1


def test_a_report_needs_a_reason(owner):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    response = Client().post(
        f"{_share_path(link)}{image.id}/report/", {"reason": "  "}, follow=True
    )
    assert "Say what is wrong with this picture." in response.content.decode()
    assert not ImageReport.objects.exists()


def test_reports_are_limited_to_ten_an_hour_from_one_address(owner):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    url = f"{_share_path(link)}{image.id}/report/"
    visitor = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(10):
        assert visitor.post(url, {"reason": "spam?"}).status_code == 302
    refused = visitor.post(url, {"reason": "spam?"})
    assert refused.status_code == 429
    assert "Too many reports" in refused.content.decode()
    assert ImageReport.objects.count() == 10
    # Another address is not affected.
    assert Client(REMOTE_ADDR="198.51.100.9").post(url, {"reason": "x"}).status_code == 302


# --- What the owner sees --------------------------------------------------------------------


def test_a_held_picture_shows_being_checked_to_its_owner_never_the_picture(browser_as, owner):
    image = held_by_scan(owner)
    pending = make_image(owner, moderation=Moderation.PENDING)
    client = browser_as(owner)

    grid = client.get("/gallery/?status=all").content.decode()
    assert grid.count("<strong>Being checked</strong>") == 2
    assert HELD_FOR_REVIEW in grid
    for hidden in (image, pending):
        assert f"/gallery/images/{hidden.id}/thumbnail/" not in grid
        assert hidden.placeholder not in grid  # not even the blurred preview
    page = client.get(f"/gallery/images/{image.id}/").content.decode()
    assert "Being checked" in page and HELD_FOR_REVIEW in page
    assert f"/gallery/images/{image.id}/file/" not in page
    for variant in ("file", "thumbnail", "download"):
        assert client.get(f"/gallery/images/{image.id}/{variant}/").status_code == 404
