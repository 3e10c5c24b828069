"""The review API: people report what a share link showed them; moderators work the queue,
decide (through image_decide: reports closed, a strike, an audit record), see the pictures
and the stopped prompts; a suspended user appeals. Everyone else gets 404, anonymous 401."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.utils import timezone

from gallery.apis.serializers import ImageOutput
from gallery.models import GeneratedImage, ImageDecision, ImageReport, ImageScan
from gallery.services import (
    collection_create,
    collection_images_add,
    image_decide,
    review_reason,
    share_link_create,
    share_link_revoke,
    share_link_token,
)
from gallery.services.review import HELD_FOR_REVIEW, REJECTED_DEFAULT
from moderation.models import AuditRecord, PromptBlock, Strike
from moderation.services import PromptBlocked, prompt_guard
from moderation.strikes import AccountSuspended, suspension_active, suspension_check
from tests.factories import UserFactory
from tests.gallery.factories import make_generation, make_image

pytestmark = pytest.mark.django_db

Moderation = GeneratedImage.Moderation
QUEUE = "/api/v1/moderation/queue/"
BLOCKED = "/api/v1/moderation/blocked-prompts/"
APPEAL = "/api/v1/moderation/appeal/"
REPORTS = "/api/v1/reports/"


def decision_url(image) -> str:
    return f"/api/v1/moderation/{image.pk}/decision/"


def file_url(image) -> str:
    return f"/api/v1/moderation/{image.pk}/file/"


@pytest.fixture
def moderator(db):
    user = UserFactory(email="mod@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="moderator"))
    return user


@pytest.fixture
def as_moderator(as_user, moderator):
    return as_user(moderator)


def _ago(minutes: int):
    return timezone.now() - timedelta(minutes=minutes)


def held_by_scan(user, *, minutes=60, **fields):
    image = make_image(
        user,
        moderation=Moderation.HELD,
        created_at=_ago(minutes),
        moderation_reason=HELD_FOR_REVIEW,
        **fields,
    )
    ImageScan.objects.create(
        image=image,
        verdict=ImageScan.Verdict.HELD,
        reason="over_threshold",
        scores={"nsfw": 0.93},
        flagged=["nsfw"],
    )
    return image


def held_by_prompt(user, *, category="sexual", minutes=50):
    generation = make_generation(user, review_category=category, prompt="a risky prompt")
    image = make_image(
        user, generation=generation, moderation=Moderation.HELD, created_at=_ago(minutes)
    )
    ImageScan.objects.create(image=image, verdict=ImageScan.Verdict.APPROVED)
    return image


def reported(user, reporter, *, minutes=40):
    image = make_image(user, created_at=_ago(minutes))
    ImageScan.objects.create(image=image, verdict=ImageScan.Verdict.APPROVED)
    ImageReport.objects.create(image=image, reporter=reporter, reason="This is me, not them")
    return image


# --- Reports --------------------------------------------------------------------------------


def test_a_person_reports_a_picture_a_share_link_showed_them(as_user, owner, other_user):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    response = as_user(other_user).post(
        REPORTS,
        {
            "image": str(image.pk),
            "reason": "That is my face",
            "share_token": share_link_token(link),
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "open" and body["image"] == str(image.pk)
    assert body["id"] and body["created_at"]
    report = ImageReport.objects.get(pk=body["id"])
    assert (report.reporter, report.share_link, report.reason) == (
        other_user,
        link,
        "That is my face",
    )


def test_a_picture_of_a_shared_collection_can_be_reported(as_user, owner, other_user):
    image = make_image(owner)
    collection = collection_create(user=owner, name="Holidays")
    collection_images_add(collection=collection, images=[image])
    token = share_link_token(share_link_create(user=owner, collection=collection))
    response = as_user(other_user).post(
        REPORTS, {"image": str(image.pk), "reason": "Not ok", "share_token": token}
    )
    assert response.status_code == 201


def test_ones_own_picture_is_refused_with_a_clear_400(as_user, owner):
    image = make_image(owner)
    token = share_link_token(share_link_create(user=owner, image=image))
    for body in (
        {"image": str(image.pk), "reason": "Oops"},
        {"image": str(image.pk), "reason": "Oops", "share_token": token},
    ):
        response = as_user(owner).post(REPORTS, body)
        assert response.status_code == 400, response.json()
        assert "your own picture" in response.json()["detail"]
    assert not ImageReport.objects.exists()


def test_a_picture_not_shown_to_the_caller_is_a_404(as_user, owner, other_user):
    image = make_image(owner)
    elsewhere = make_image(owner)
    held = make_image(owner, moderation=Moderation.HELD)
    link_to_other = share_link_create(user=owner, image=elsewhere)
    revoked = share_link_create(user=owner, image=image)
    revoked_token = share_link_token(revoked)
    share_link_revoke(link=revoked)
    collection = collection_create(user=owner, name="Mixed")
    collection_images_add(collection=collection, images=[elsewhere, held])
    held_link = share_link_create(user=owner, collection=collection)  # shows approved ones only
    client = as_user(other_user)
    for body in (
        {"image": str(image.pk), "reason": "x"},  # no link: not theirs to see
        {"image": str(image.pk), "reason": "x", "share_token": share_link_token(link_to_other)},
        {"image": str(image.pk), "reason": "x", "share_token": revoked_token},
        {"image": str(image.pk), "reason": "x", "share_token": "forged-token"},
        {"image": str(held.pk), "reason": "x", "share_token": share_link_token(held_link)},
    ):
        assert client.post(REPORTS, body).status_code == 404, body
    assert not ImageReport.objects.exists()


def test_a_report_needs_an_image_and_a_reason(as_user, api, owner, other_user):
    image = make_image(owner)
    token = share_link_token(share_link_create(user=owner, image=image))
    client = as_user(other_user)
    response = client.post(REPORTS, {"image": str(image.pk), "share_token": token})
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    response = client.post(REPORTS, {"image": "not-an-id", "reason": "x", "share_token": token})
    assert response.status_code == 400 and "image" in response.json()["errors"]
    assert api.post(REPORTS, {"image": str(image.pk), "reason": "x"}).status_code == 401


# --- Who reaches the moderators' endpoints -------------------------------------------------


def _moderator_requests(image):
    return [
        ("get", QUEUE, None),
        ("get", BLOCKED, None),
        ("get", file_url(image), None),
        ("post", decision_url(image), {"decision": "approved", "reason": "ok"}),
    ]


def test_only_moderators_reach_the_moderation_endpoints(as_user, api, owner, stranger):
    image = held_by_scan(owner)
    staff_without_the_role = UserFactory(email="staff@example.com", is_staff=True)
    staff_without_the_role.user_permissions.add(Permission.objects.get(codename="view_plan"))
    group_without_staff = UserFactory(email="group@example.com")
    group_without_staff.groups.add(Group.objects.get(name="moderator"))
    for method, url, body in _moderator_requests(image):
        for user in (owner, stranger, staff_without_the_role, group_without_staff):
            response = getattr(as_user(user), method)(url, body)
            assert response.status_code == 404, (method, url, user.email, response.status_code)
        assert getattr(api, method)(url, body).status_code == 401, (method, url)
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert not ImageDecision.objects.exists()


def test_superusers_reach_them_too(as_user, owner):
    admin_user = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    image = held_by_scan(owner)
    for method, url, body in _moderator_requests(image):
        assert getattr(as_user(admin_user), method)(url, body).status_code == 200, url


# --- The queue ------------------------------------------------------------------------------


def test_the_queue_lists_held_and_reported_pictures_oldest_first(as_moderator, owner, other_user):
    scan_held = held_by_scan(owner, minutes=60)
    prompt_held = held_by_prompt(owner, minutes=50)
    report = reported(other_user, owner, minutes=40)
    make_image(owner, created_at=_ago(90))  # approved, not reported
    make_image(owner, moderation=Moderation.REJECTED, created_at=_ago(80))
    make_image(owner, moderation=Moderation.PENDING, created_at=_ago(70))
    closed = make_image(owner, created_at=_ago(30))
    ImageReport.objects.create(image=closed, reason="x", status=ImageReport.Status.CLOSED)

    response = as_moderator.get(QUEUE)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["id"] for item in results] == [
        str(scan_held.pk),
        str(prompt_held.pk),
        str(report.pk),
    ]
    first, second, third = results
    assert first["state"] == "held"
    assert first["reason"] == "The safety scan flagged this picture."
    assert first["scan"]["verdict"] == "held"
    assert first["scan"]["scores"] == {"nsfw": 0.93} and first["scan"]["flagged"] == ["nsfw"]
    assert first["owner"] == {"id": str(owner.public_id), "email": "owner@example.com"}
    assert first["prompt"] == "a portrait on a beach"
    assert first["model_label"] == scan_held.generation.model_label
    assert first["open_reports"] == 0
    assert second["reason"] == "Prompt rule: sexual" and second["review_category"] == "sexual"
    assert third["state"] == "approved" and third["reason"] == "Reported"
    assert third["open_reports"] == 1 and third["owner"]["email"] == "other@example.com"


def test_a_picture_not_scanned_has_no_scan(as_moderator, owner):
    image = make_image(owner, moderation=Moderation.HELD)
    item = as_moderator.get(QUEUE).json()["results"][0]
    assert item["id"] == str(image.pk) and item["scan"] is None


def test_the_queue_url_serves_the_picture_to_moderators_only(as_moderator, as_user, owner):
    image = held_by_scan(owner)
    url = as_moderator.get(QUEUE).json()["results"][0]["url"]
    assert url.endswith(file_url(image))
    response = as_moderator.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    with image.file.open("rb") as stored:
        assert b"".join(response.streaming_content) == stored.read()
    # The owner's own view does not serve a held picture; the moderators' view is not theirs.
    assert as_user(owner).get(f"/api/v1/images/{image.pk}/file/").status_code == 404
    assert as_user(owner).get(url).status_code == 404


def test_the_queue_filters(as_moderator, owner, other_user):
    scan_held = held_by_scan(owner)
    prompt_held = held_by_prompt(owner, category="violence")
    sexual = held_by_prompt(other_user, category="sexual", minutes=45)
    report = reported(other_user, owner)

    def ids(**params):
        response = as_moderator.get(QUEUE, params)
        assert response.status_code == 200, response.json()
        return {item["id"] for item in response.json()["results"]}

    assert ids(reason="scan") == {str(scan_held.pk)}
    assert ids(reason="prompt") == {str(prompt_held.pk), str(sexual.pk)}
    assert ids(reason="report") == {str(report.pk)}
    assert ids(category="violence") == {str(prompt_held.pk)}
    assert ids(owner="OTHER@example.com") == {str(sexual.pk), str(report.pk)}
    assert ids(owner="other@example.com", reason="prompt") == {str(sexual.pk)}
    response = as_moderator.get(QUEUE, {"reason": "vibes"})
    assert response.status_code == 400 and "reason" in response.json()["errors"]


def test_the_queue_is_paged_by_cursor(as_moderator, owner):
    images = [held_by_scan(owner, minutes=100 - index) for index in range(5)]
    first = as_moderator.get(QUEUE, {"page_size": 2}).json()
    assert [item["id"] for item in first["results"]] == [str(i.pk) for i in images[:2]]
    assert first["next"] and first["previous"] is None
    second = as_moderator.get(first["next"]).json()
    third = as_moderator.get(second["next"]).json()
    seen = [item["id"] for page in (first, second, third) for item in page["results"]]
    assert seen == [str(image.pk) for image in images]
    assert third["next"] is None
    bad = as_moderator.get(QUEUE, {"cursor": "garbage"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]


# --- Decisions ------------------------------------------------------------------------------


def test_approving_shows_the_picture_and_closes_its_reports(
    as_moderator, as_user, moderator, owner, other_user
):
    image = held_by_scan(owner)
    report = ImageReport.objects.create(image=image, reporter=other_user, reason="x")
    response = as_moderator.post(decision_url(image), {"decision": "approved", "reason": "Fine"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["id"], body["state"], body["reason"]) == (str(image.pk), "approved", "")
    assert body["decision"]["decision"] == "approved"
    assert body["decision"]["moderator"] == "mod@example.com"
    report.refresh_from_db()
    assert report.status == "closed" and report.decision_id == body["decision"]["id"]
    assert as_user(owner).get(f"/api/v1/images/{image.pk}/file/").status_code == 200
    record = AuditRecord.objects.get(action="image.approved", object_id=str(image.pk))
    assert (record.actor, record.reason) == (moderator, "Fine")
    assert not Strike.objects.filter(user=owner).exists()
    assert not as_moderator.get(QUEUE).json()["results"]


def test_rejecting_tells_the_owner_why_strikes_and_is_audited(
    as_moderator, as_user, moderator, owner, other_user
):
    image = reported(owner, other_user)
    response = as_moderator.post(
        decision_url(image), {"decision": "rejected", "reason": "A real person's face"}
    )
    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "rejected"
    assert response.json()["reason"] == "A real person's face"
    image.refresh_from_db()
    assert image.moderation_state == Moderation.REJECTED
    assert ImageReport.objects.get(image=image).status == "closed"
    strike = Strike.objects.get(user=owner)
    assert (strike.kind, strike.reference) == ("rejected_image", f"image:{image.pk}")
    record = AuditRecord.objects.get(action="image.rejected", object_id=str(image.pk))
    assert (record.actor, record.reason) == (moderator, "A real person's face")
    assert record.changes == {
        "before": {"moderation_state": "approved"},
        "after": {"moderation_state": "rejected"},
    }
    # Its owner no longer gets the picture, and reads why in their image API.
    owner_api = as_user(owner)
    assert owner_api.get(f"/api/v1/images/{image.pk}/file/").status_code == 404
    detail = owner_api.get(f"/api/v1/images/{image.pk}/").json()
    assert detail["moderation_state"] == "rejected"
    assert detail["moderation_reason"] == "A real person's face"


def test_a_rejection_without_a_reason_gives_the_owner_the_default(as_moderator, owner):
    image = held_by_scan(owner)
    assert as_moderator.post(decision_url(image), {"decision": "rejected"}).status_code == 200
    image.refresh_from_db()
    assert image.moderation_reason == REJECTED_DEFAULT


def test_a_picture_still_being_scanned_is_a_409(as_moderator, owner):
    image = make_image(owner, moderation=Moderation.PENDING)
    response = as_moderator.post(decision_url(image), {"decision": "approved"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    image.refresh_from_db()
    assert image.moderation_state == Moderation.PENDING
    assert not ImageDecision.objects.exists()


def test_a_decision_is_approved_or_rejected(as_moderator, owner):
    image = held_by_scan(owner)
    response = as_moderator.post(decision_url(image), {"decision": "maybe"})
    assert response.status_code == 400 and "decision" in response.json()["errors"]
    response = as_moderator.post(decision_url(image), {"decision": "rejected", "reason": "x" * 301})
    assert response.status_code == 400 and "reason" in response.json()["errors"]
    missing = f"/api/v1/moderation/{GeneratedImage().pk}/decision/"
    assert as_moderator.post(missing, {"decision": "approved"}).status_code == 404
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD


# --- Stopped prompts ------------------------------------------------------------------------


def test_the_blocked_prompt_log_lists_records_with_their_rule(
    as_moderator, owner, other_user, stranger
):
    with pytest.raises(PromptBlocked):
        prompt_guard(user=owner, prompt="n.u.d.e selfie", source="api")
    blocked = PromptBlock.objects.get(user=owner)
    review = PromptBlock.objects.create(
        user=other_user, prompt="a duel", category="violence", action="review", rule_id=7
    )
    older = PromptBlock.objects.create(
        user=stranger,
        prompt="old one",
        category="hate",
        action="blocked",
        rule_id=3,
        created_at=_ago(60),
    )

    response = as_moderator.get(BLOCKED)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [item["id"] for item in results] == [review.pk, blocked.pk, older.pk]
    item = results[1]
    assert item["prompt"] == "n.u.d.e selfie" and item["category"] == "sexual"
    assert item["action"] == "blocked" and item["source"] == "api"
    assert item["rule_id"] == blocked.rule_id and item["rule_id"] is not None
    assert item["user"] == {"id": str(owner.public_id), "email": "owner@example.com"}

    def ids(**params):
        response = as_moderator.get(BLOCKED, params)
        assert response.status_code == 200, response.json()
        return [item["id"] for item in response.json()["results"]]

    assert ids(category="violence") == [review.pk]
    assert ids(action="blocked") == [blocked.pk, older.pk]
    assert ids(user="Stranger@Example.com") == [older.pk]
    assert ids(source="api") == [blocked.pk]
    page = as_moderator.get(BLOCKED, {"page_size": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    response = as_moderator.get(BLOCKED, {"category": "nonsense"})
    assert response.status_code == 400 and "category" in response.json()["errors"]


# --- Appeals --------------------------------------------------------------------------------


def _suspend(owner, moderator, settings):
    settings.MODERATION_STRIKE_LIMIT = 2
    for _ in range(2):
        image_decide(
            moderator=moderator, image=held_by_scan(owner), decision="rejected", reason="No"
        )
    assert suspension_active(user=owner) is not None


def test_a_suspended_user_appeals(as_user, owner, moderator, settings):
    _suspend(owner, moderator, settings)
    with pytest.raises(AccountSuspended):
        suspension_check(user=owner)
    response = as_user(owner).post(APPEAL, {"text": "It was a costume, please look again."})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["appeal"] == "It was a costume, please look again."
    assert body["appealed_at"] and "limit is 2" in body["reason"]
    assert suspension_active(user=owner).appeal == "It was a costume, please look again."
    assert AuditRecord.objects.filter(action="user.appeal", actor=owner).exists()


def test_appealing_without_a_suspension_or_a_text_is_a_400(as_user, api, owner, other_user):
    response = as_user(other_user).post(APPEAL, {"text": "Let me in"})
    assert response.status_code == 400
    assert response.json()["code"] == "not_suspended"
    response = as_user(owner).post(APPEAL, {"text": "   "})
    assert response.status_code == 400 and "text" in response.json()["errors"]
    assert api.post(APPEAL, {"text": "x"}).status_code == 401


# --- What an image's owner sees of its moderation --------------------------------------------


def test_the_owner_sees_the_state_and_reason_of_each_image(as_user, owner):
    held = make_image(owner, moderation=Moderation.HELD, moderation_reason=HELD_FOR_REVIEW)
    rejected = make_image(
        owner, moderation=Moderation.REJECTED, moderation_reason="Breaks the content rules"
    )
    shown = make_image(owner)
    response = as_user(owner).get("/api/v1/images/", {"status": "all"})
    by_id = {item["id"]: item for item in response.json()["results"]}
    assert by_id[str(held.pk)]["moderation_state"] == "held"
    assert by_id[str(held.pk)]["moderation_reason"] == HELD_FOR_REVIEW
    assert by_id[str(rejected.pk)]["moderation_state"] == "rejected"
    assert by_id[str(rejected.pk)]["moderation_reason"] == "Breaks the content rules"
    assert by_id[str(shown.pk)]["moderation_reason"] == ""


def test_another_user_never_sees_the_reason(as_user, owner, other_user):
    rejected = make_image(owner, moderation=Moderation.REJECTED, moderation_reason="Private")
    client = as_user(other_user)
    assert client.get(f"/api/v1/images/{rejected.pk}/").status_code == 404
    listed = client.get("/api/v1/images/", {"status": "all"}).json()["results"]
    assert str(rejected.pk) not in {item["id"] for item in listed}
    # Even if the serializer were handed someone else's image, the reason stays the owner's.
    request = RequestFactory().get("/")
    request.user = other_user
    assert ImageOutput(rejected, context={"request": request}).data["moderation_reason"] is None
    request.user = owner
    data = ImageOutput(rejected, context={"request": request}).data
    assert data["moderation_reason"] == "Private"


def test_a_picture_is_called_reported_only_while_a_report_is_open(owner):
    image = make_image(owner)
    ImageScan.objects.create(image=image, verdict=ImageScan.Verdict.APPROVED, scores={})
    image.refresh_from_db()
    assert review_reason(image) == "Passed the safety scan"
    report = ImageReport.objects.create(image=image, reason="not me")
    assert review_reason(image) == "Reported"
    ImageReport.objects.filter(pk=report.pk).update(status=ImageReport.Status.CLOSED)
    assert review_reason(image) == "Passed the safety scan"
