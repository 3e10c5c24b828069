"""The privacy page and a dataset's retention notice, as a person sees them, at desktop width
and 390 px wide (screenshots in the browser tests' folder, var/test-screenshots)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.pages import DESKTOP, PHONE, page_width, shot, sign_in
from tests.factories import UserFactory, verify_email
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun

pytestmark = pytest.mark.browser


def test_the_privacy_page_reads_well_on_a_phone(page):
    page.goto("/")
    page.get_by_role("link", name="Privacy").click()
    page.wait_for_url("**/privacy/")
    assert page.get_by_role("heading", name="What goes to Replicate").is_visible()
    for name, viewport in (("privacy-desktop.png", DESKTOP), ("privacy-phone.png", PHONE)):
        shot(page, name, viewport)
        width = page_width(page)
        assert width <= viewport["width"], f"{name}: {width} px wide, wider than the screen"


def test_a_person_sees_when_their_photos_go_and_keeps_them(page):
    person = UserFactory(email="keeper@example.com")
    verify_email(person)
    dataset = Dataset.objects.create(owner=person, name="Summer")
    DatasetImage.objects.create(dataset=dataset, original_name="a.jpg", status="ready")
    TrainingRun.objects.create(
        owner=person,
        dataset=dataset,
        lora_model=LoraModel.objects.create(owner=person, name="Me", trigger_word="ZORKEEP"),
        status=TrainingRun.Status.SUCCEEDED,
        completed_at=timezone.now() - timedelta(days=2),
    )
    sign_in(page, person.email)
    page.goto(f"/trainings/datasets/{dataset.pk}/")
    notice = page.locator(".retention")
    assert "will be deleted on" in notice.inner_text()
    shot(page, "dataset-retention-phone.png", PHONE)
    page.get_by_role("button", name="Keep my photos").click()
    page.wait_for_load_state()
    assert "You chose to keep these photos" in page.locator(".retention").inner_text()
    shot(page, "dataset-retention-kept-desktop.png", DESKTOP)
