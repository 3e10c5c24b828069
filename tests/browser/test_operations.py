"""The operator dashboard as an administrator sees it, at desktop width and on a 390 px phone:
the charts are drawn, nothing sticks out sideways (screenshots in var/test-screenshots)."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from tests.browser.pages import DESKTOP, PHONE, page_width, shot, sign_in
from tests.factories import UserFactory, verify_email
from tests.gallery.factories import make_generation
from trainings.models import LoraModel, TrainingRun

pytestmark = pytest.mark.browser


def test_the_operator_dashboard_reads_on_a_desktop_and_a_phone(page):
    admin = User.objects.create_superuser(email="boss@example.com", password="x-pass-phrase-1")
    verify_email(admin)
    person = UserFactory(email="busy@example.com")
    today = timezone.now().astimezone(UTC).date()
    model = LoraModel.objects.create(
        owner=person, name="Me", trigger_word="ZORVAK", status=LoraModel.Status.READY
    )
    for days_ago in range(6):
        at = datetime.combine(today - timedelta(days=days_ago), time(12), tzinfo=UTC)
        TrainingRun.objects.create(
            owner=person,
            lora_model=model,
            status=TrainingRun.Status.SUCCEEDED if days_ago % 3 else TrainingRun.Status.FAILED,
            error_message="" if days_ago % 3 else "The training ran out of GPU memory.",
            metrics={"predict_time": 900.0 + days_ago * 60},
            created_at=at,
        )
        for _ in range(days_ago + 1):
            make_generation(person, metrics={"predict_time": 4.0}, created_at=at)

    sign_in(page, admin.email, "x-pass-phrase-1")
    page.goto("/staff/dashboard/?days=7")
    assert page.locator("svg").count() >= 4
    shot(page, "operations-dashboard-desktop.png", DESKTOP)
    shot(page, "operations-dashboard-390.png", PHONE)
    assert page_width(page) <= PHONE["width"]
