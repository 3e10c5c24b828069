"""Review in the admin: images with thumbnails and a staff-only preview, filters, approve and
reject through image_decide (audited with the administrator's name), read-only decisions,
reports and strikes, suspensions lifted through suspension_lift; moderators get no admin page."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts.models import User
from gallery.models import GeneratedImage, ImageDecision, ImageReport, ImageScan
from gallery.services import image_decide
from gallery.services.review import REJECTED_DEFAULT
from moderation.models import AuditRecord, Strike, Suspension
from moderation.strikes import AccountSuspended, suspension_active, suspension_check
from tests.factories import UserFactory
from tests.gallery.factories import make_generation, make_image

pytestmark = pytest.mark.django_db

Moderation = GeneratedImage.Moderation
IMAGES = "/admin/gallery/generatedimage/"
SUSPENSIONS = "/admin/moderation/suspension/"


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser(email="boss@example.com", password="x-pass-phrase-1")


@pytest.fixture
def moderator(db):
    user = UserFactory(email="mod@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="moderator"))
    return user


@pytest.fixture
def support(db):
    """Staff who may look at images and nothing else (no moderation, no decisions)."""
    user = UserFactory(email="support@example.com", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_generatedimage"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def as_admin(client, admin_user):
    client.force_login(admin_user)
    return client


def held(user, **fields):
    image = make_image(user, moderation=Moderation.HELD, **fields)
    ImageScan.objects.create(
        image=image, verdict=ImageScan.Verdict.HELD, reason="over_threshold", scores={"nsfw": 0.9}
    )
    return image


def _bytes(response) -> bytes:
    return b"".join(response.streaming_content)


# --- The image list and the pictures --------------------------------------------------------


def test_the_image_list_shows_thumbnails_state_reason_and_scan(as_admin, owner):
    image = held(owner)
    rejected = make_image(
        owner, moderation=Moderation.REJECTED, moderation_reason="Breaks the rules"
    )
    response = as_admin.get(IMAGES)
    assert response.status_code == 200
    html = response.content.decode()
    thumbnail = reverse("admin:gallery_generatedimage_thumbnail", args=[image.pk])
    assert thumbnail in html
    cells = dict.fromkeys(["reason", "scan_verdict", "moderation_state"])
    for name in cells:
        cells[name] = re.findall(rf'<td class="field-{name}[^"]*">([^<]*)</td>', html)
    # Newest first: the rejected one (its owner's reason, never scanned), then the held one.
    assert cells["reason"] == ["Breaks the rules", "The safety scan flagged this picture."]
    assert cells["scan_verdict"] == ["Not scanned", "Held for review"]
    assert cells["moderation_state"] == ["Rejected", "Waiting for review"]
    picture = as_admin.get(thumbnail)
    assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"
    with image.thumbnail.open("rb") as stored:
        assert _bytes(picture) == stored.read()
    assert str(rejected.pk) in html


def test_the_list_filters_by_state_and_by_scan_verdict(as_admin, owner):
    waiting = held(owner)
    shown = make_image(owner)
    ImageScan.objects.create(image=shown, verdict=ImageScan.Verdict.APPROVED)
    unscanned = make_image(owner, moderation=Moderation.PENDING)

    def listed(query):
        response = as_admin.get(IMAGES + query)
        assert response.status_code == 200
        return {image.pk for image in response.context["cl"].result_list}

    assert listed("?moderation_state__exact=held") == {waiting.pk}
    assert listed("?moderation_state__exact=approved") == {shown.pk}
    assert listed("?scan=held") == {waiting.pk}
    assert listed("?scan=approved") == {shown.pk}
    assert listed("?scan=none") == {unscanned.pk}


def test_the_change_page_previews_the_full_picture_for_staff(as_admin, owner, other_user):
    image = held(owner)
    ImageReport.objects.create(image=image, reporter=other_user, reason="That is me")
    page = as_admin.get(f"{IMAGES}{image.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    preview = reverse("admin:gallery_generatedimage_file", args=[image.pk])
    assert preview in html
    assert "That is me" in html  # its reports
    assert "nsfw: 0.9" in html  # the scan's scores
    response = as_admin.get(preview)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    with image.file.open("rb") as stored:
        assert _bytes(response) == stored.read()


def test_pictures_are_for_staff_who_may_view_images_only(
    client, owner, other_user, moderator, support
):
    image = held(owner)
    urls = [
        reverse("admin:gallery_generatedimage_thumbnail", args=[image.pk]),
        reverse("admin:gallery_generatedimage_file", args=[image.pk]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302  # anonymous: the admin's sign-in page
    for user in (owner, other_user, moderator):
        client.force_login(user)
        for url in urls:
            response = client.get(url)
            assert response.status_code == 302, (user.email, url)
            assert response["Location"].startswith("/admin/login/")
    staff_without_view = UserFactory(email="plans@example.com", is_staff=True)
    staff_without_view.user_permissions.add(Permission.objects.get(codename="view_plan"))
    client.force_login(staff_without_view)
    for url in urls:
        assert client.get(url).status_code == 403, url
    client.force_login(support)
    for url in urls:
        assert client.get(url).status_code == 200, url


# --- Decisions through image_decide ---------------------------------------------------------


def _act(client, action, images, **extra):
    return client.post(
        IMAGES, {"action": action, "_selected_action": [image.pk for image in images], **extra}
    )


def test_approving_asks_for_a_reason_then_decides_through_the_service(
    as_admin, admin_user, owner, other_user
):
    image = held(owner)
    report = ImageReport.objects.create(image=image, reporter=other_user, reason="x")
    page = _act(as_admin, "approve", [image])
    assert page.status_code == 200
    assert 'name="reason"' in page.content.decode() and str(image.pk) in page.content.decode()
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD  # nothing happens before the reason

    response = _act(as_admin, "approve", [image], apply="1", reason="Checked: a cosplay")
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.moderation_state == Moderation.APPROVED
    decision = ImageDecision.objects.get(image=image)
    assert (decision.moderator, decision.decision, decision.reason) == (
        admin_user,
        "approved",
        "Checked: a cosplay",
    )
    report.refresh_from_db()
    assert report.status == "closed" and report.decision == decision
    record = AuditRecord.objects.get(action="image.approved", object_id=str(image.pk))
    assert (record.actor, record.reason) == (admin_user, "Checked: a cosplay")


def test_rejecting_from_the_admin_strikes_and_tells_the_owner(as_admin, admin_user, owner):
    first, second = held(owner), held(owner)
    page = _act(as_admin, "reject", [first, second])
    assert REJECTED_DEFAULT in page.content.decode()  # the reason is prefilled
    response = _act(as_admin, "reject", [first, second], apply="1", reason="Nudity")
    assert response.status_code == 302
    for image in (first, second):
        image.refresh_from_db()
        assert (image.moderation_state, image.moderation_reason) == ("rejected", "Nudity")
        record = AuditRecord.objects.get(action="image.rejected", object_id=str(image.pk))
        assert (record.actor, record.reason) == (admin_user, "Nudity")
    assert Strike.objects.filter(user=owner, kind="rejected_image").count() == 2


def test_a_decision_needs_a_reason_and_skips_pictures_not_scanned(as_admin, owner):
    image = held(owner)
    pending = make_image(owner, moderation=Moderation.PENDING)
    page = _act(as_admin, "reject", [image], apply="1", reason="")
    assert page.status_code == 200 and page.context["form"].errors["reason"]
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD

    response = _act(as_admin, "approve", [image, pending], apply="1", reason="Fine")
    assert response.status_code == 302
    messages = [str(message) for message in as_admin.get(IMAGES).context["messages"]]
    assert any("not scanned yet" in message for message in messages), messages
    pending.refresh_from_db()
    assert pending.moderation_state == Moderation.PENDING
    assert not ImageDecision.objects.filter(image=pending).exists()


def test_the_state_is_never_edited_by_hand(as_admin, owner):
    image = held(owner)
    as_admin.post(f"{IMAGES}{image.pk}/change/", {"moderation_state": "approved"})
    assert as_admin.get(f"{IMAGES}{image.pk}/delete/").status_code == 403
    assert as_admin.get(f"{IMAGES}add/").status_code == 403
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert not ImageDecision.objects.exists()


def test_staff_who_may_only_view_images_cannot_decide(client, support, owner):
    image = held(owner)
    client.force_login(support)
    page = client.get(IMAGES)
    assert page.status_code == 200
    assert page.context["action_form"] is None  # no action offered: they may not moderate
    _act(client, "approve", [image], apply="1", reason="Fine")
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD


# --- Read-only records ----------------------------------------------------------------------


def test_decisions_reports_and_strikes_are_read_only(as_admin, admin_user, owner, other_user):
    image = held(owner)
    report = ImageReport.objects.create(image=image, reporter=other_user, reason="Mine")
    open_report = ImageReport.objects.create(
        image=make_image(owner), reporter=other_user, reason="Also mine"
    )
    decision = image_decide(moderator=admin_user, image=image, decision="rejected", reason="No")
    strike = Strike.objects.get(user=owner)
    for model, obj in (
        ("gallery/imagedecision", decision),
        ("gallery/imagereport", report),
        ("moderation/strike", strike),
    ):
        assert as_admin.get(f"/admin/{model}/").status_code == 200, model
        assert as_admin.get(f"/admin/{model}/add/").status_code == 403, model
        assert as_admin.get(f"/admin/{model}/{obj.pk}/delete/").status_code == 403, model
        page = as_admin.get(f"/admin/{model}/{obj.pk}/change/")
        assert page.status_code == 200 and not page.context["has_change_permission"], model
    reports = as_admin.get("/admin/gallery/imagereport/?status__exact=open")
    assert [r.pk for r in reports.context["cl"].result_list] == [open_report.pk]


def test_strikes_are_found_by_the_users_email_and_filtered(as_admin, admin_user, owner, stranger):
    image_decide(moderator=admin_user, image=held(owner), decision="rejected", reason="No")
    image_decide(moderator=admin_user, image=held(stranger), decision="rejected", reason="No")
    Strike.objects.create(user=owner, kind="blocked_prompt", category="hate", reference="p:1")
    found = as_admin.get("/admin/moderation/strike/?q=owner@example.com").context["cl"]
    assert {strike.user_id for strike in found.result_list} == {owner.pk}
    assert len(found.result_list) == 2
    kinds = as_admin.get("/admin/moderation/strike/?kind__exact=blocked_prompt").context["cl"]
    assert [strike.reference for strike in kinds.result_list] == ["p:1"]
    by_category = as_admin.get("/admin/moderation/strike/?category__exact=hate").context["cl"]
    assert [strike.reference for strike in by_category.result_list] == ["p:1"]


# --- Suspensions, appeals, lifting ----------------------------------------------------------


def _suspend(user, admin_user, settings):
    settings.MODERATION_STRIKE_LIMIT = 2
    for _ in range(2):
        image_decide(moderator=admin_user, image=held(user), decision="rejected", reason="No")
    suspension = suspension_active(user=user)
    assert suspension is not None
    return suspension


def test_appeal_then_an_admin_lifts_the_suspension_and_the_user_may_generate(
    as_admin, as_user, admin_user, owner, settings
):
    _suspend(owner, admin_user, settings)
    with pytest.raises(AccountSuspended):
        suspension_check(user=owner)
    response = as_user(owner).post(
        "/api/v1/moderation/appeal/", {"text": "It was a costume, look again"}
    )
    assert response.status_code == 200

    listing = as_admin.get(SUSPENSIONS + "?state=active&appealed=yes")
    assert [s.pk for s in listing.context["cl"].result_list] == [owner.pk]
    assert "It was a costume, look again" in listing.content.decode()
    change = as_admin.get(f"{SUSPENSIONS}{owner.pk}/change/").content.decode()
    assert "It was a costume, look again" in change
    assert reverse("admin:moderation_suspension_lift", args=[owner.pk]) in change

    page = as_admin.post(SUSPENSIONS, {"action": "lift", "_selected_action": [owner.pk]})
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    assert suspension_active(user=owner) is not None
    response = as_admin.post(
        SUSPENSIONS,
        {"action": "lift", "_selected_action": [owner.pk], "apply": "1", "reason": "Fair"},
    )
    assert response.status_code == 302
    suspension_check(user=owner)  # no longer suspended: generating and training are back
    suspension = Suspension.objects.get(pk=owner.pk)
    assert (suspension.lifted_by, suspension.lift_reason) == (admin_user, "Fair")
    record = AuditRecord.objects.get(action="user.unsuspend", object_id=str(owner.pk))
    assert (record.actor, record.reason) == (admin_user, "Fair")
    lifted = as_admin.get(SUSPENSIONS + "?state=lifted").context["cl"].result_list
    assert [s.pk for s in lifted] == [owner.pk]


def test_the_change_pages_button_lifts_one_suspension(as_admin, admin_user, owner, settings):
    _suspend(owner, admin_user, settings)
    url = reverse("admin:moderation_suspension_lift", args=[owner.pk])
    page = as_admin.get(url)
    assert page.status_code == 200 and 'name="reason"' in page.content.decode()
    response = as_admin.post(url, {"apply": "1", "reason": "Appeal accepted"})
    assert response.status_code == 302
    assert response["Location"] == f"{SUSPENSIONS}{owner.pk}/change/"
    suspension_check(user=owner)
    assert AuditRecord.objects.get(action="user.unsuspend").actor == admin_user


def test_a_suspension_is_never_edited_by_hand(as_admin, admin_user, owner, settings):
    _suspend(owner, admin_user, settings)
    as_admin.post(f"{SUSPENSIONS}{owner.pk}/change/", {"lifted_at_0": "2030-01-01"})
    assert as_admin.get(f"{SUSPENSIONS}{owner.pk}/delete/").status_code == 403
    assert as_admin.get(f"{SUSPENSIONS}add/").status_code == 403
    assert suspension_active(user=owner) is not None
    with pytest.raises(AccountSuspended):
        suspension_check(user=owner)


# --- Moderators get no admin page -----------------------------------------------------------


def _admin_pages(image, owner):
    pages = ["/admin/", "/admin/password_change/"]
    for model in admin.site._registry:
        opts = model._meta
        pages.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    return [
        *pages,
        reverse("admin:gallery_generatedimage_thumbnail", args=[image.pk]),
        reverse("admin:gallery_generatedimage_file", args=[image.pk]),
        f"{IMAGES}{image.pk}/change/",
        reverse("admin:moderation_suspension_lift", args=[owner.pk]),
        reverse("admin:moderation_promptrule_test"),
    ]


def test_a_moderator_gets_no_admin_page(client, moderator, admin_user, owner, settings):
    image = held(owner, generation=make_generation(owner))
    _suspend(owner, admin_user, settings)
    pages = _admin_pages(image, owner)
    assert len(pages) > 20  # every registered model, not a handful

    client.force_login(moderator)
    for url in pages:
        response = client.get(url)
        assert response.status_code in (302, 403), (url, response.status_code)
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/"), url
    # Nor can they act: the decision and the lift are refused before any view runs.
    client.post(IMAGES, {"action": "approve", "_selected_action": [image.pk], "apply": "1"})
    client.post(SUSPENSIONS, {"action": "lift", "_selected_action": [owner.pk], "apply": "1"})
    image.refresh_from_db()
    assert image.moderation_state == Moderation.HELD
    assert suspension_active(user=owner) is not None

    # The same pages answer an administrator (so the refusals above mean something).
    client.force_login(admin_user)
    for url in pages:
        assert client.get(url).status_code == 200, url


def test_staff_with_an_admin_permission_keep_the_admin(client, support, moderator):
    client.force_login(support)
    index = client.get("/admin/")
    assert index.status_code == 200
    assert [app["app_label"] for app in index.context["app_list"]] == ["gallery"]
    assert client.get(IMAGES).status_code == 200
    assert client.get("/admin/gallery/stylepreset/").status_code == 403
    # A moderator who is also given an admin permission is an administrator for that model.
    moderator.user_permissions.add(Permission.objects.get(codename="view_generatedimage"))
    client.force_login(User.objects.get(pk=moderator.pk))
    assert client.get(IMAGES).status_code == 200
    assert client.get("/admin/moderation/promptrule/").status_code == 403


def test_the_sign_in_page_tells_a_moderator_they_may_not_enter(client, moderator):
    client.force_login(moderator)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 200
    text = re.sub(r"\s+", " ", response.content.decode())
    assert "not authorized to access this page" in text
