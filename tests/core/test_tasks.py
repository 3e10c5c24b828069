from datetime import timedelta

import pytest
from django.utils import timezone

from config.celery import app as celery_app
from core.models import WebhookDelivery
from core.tasks import webhook_delivery_prune_task


def test_beat_prunes_webhook_deliveries_every_hour():
    celery_app.finalize()  # the beat schedule is set once the app is finalized
    entries = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}
    assert entries.get("core.tasks.webhook_delivery_prune_task") == 60 * 60
    assert "core.tasks.webhook_delivery_prune_task" in celery_app.tasks


@pytest.mark.django_db
def test_pruning_deletes_deliveries_past_the_window_and_keeps_recent_ones(settings):
    settings.WEBHOOK_DELIVERY_KEEP_DAYS = 7
    now = timezone.now()
    ages = {
        "just-now": timedelta(0),
        "within-margin": timedelta(days=7),  # still inside 7 days + 5 minutes
        "past-window": timedelta(days=7, minutes=6),
        "old": timedelta(days=30),
    }
    for webhook_id, age in ages.items():
        delivery = WebhookDelivery.objects.create(
            webhook_id=webhook_id, remote_id="r1", remote_status="succeeded"
        )
        # received_at is auto_now_add: set the past with an update.
        WebhookDelivery.objects.filter(pk=delivery.pk).update(received_at=now - age)

    assert webhook_delivery_prune_task.delay().get() == 2

    remaining = set(WebhookDelivery.objects.values_list("webhook_id", flat=True))
    assert remaining == {"just-now", "within-margin"}


@pytest.mark.django_db
def test_the_margin_is_a_setting(settings):
    settings.WEBHOOK_DELIVERY_KEEP_DAYS = 1
    delivery = WebhookDelivery.objects.create(
        webhook_id="two-days", remote_id="r1", remote_status="succeeded"
    )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        received_at=timezone.now() - timedelta(days=2)
    )
    assert webhook_delivery_prune_task() == 1
    assert not WebhookDelivery.objects.exists()
