from datetime import UTC, datetime

import pytest
from django.utils import timezone

from accounts import quotas
from accounts.models import Plan
from accounts.quotas import quota_check, quota_summary, quota_usage, register_usage_counter
from core.exceptions import LimitExceeded

pytestmark = pytest.mark.django_db


@pytest.fixture
def registry(monkeypatch):
    """The counters registered so far, in a copy that the test may add to and then drops."""
    monkeypatch.setattr(quotas, "_counters", {k: dict(v) for k, v in quotas._counters.items()})


@pytest.fixture
def counts(registry):
    """Usage the test decides, through the same registry other apps use."""
    values = {"models": 0, "trainings_per_month": 0, "generations_per_day": 0, "storage_bytes": 0}
    seen_since = {}

    def make(kind):
        def counter(*, user, since):
            seen_since[kind] = since
            return values[kind]

        counter.__qualname__ = f"test_counter_{kind}"
        return counter

    counters = {kind: make(kind) for kind in values}
    for kind, counter in counters.items():
        register_usage_counter(kind, counter)
    return values, seen_since


def test_new_users_are_on_the_free_plan_made_by_the_migration(owner):
    plan = Plan.objects.get(is_default=True)
    assert plan.name == "Free"
    assert quota_usage(user=owner, kind="models").limit == plan.max_models


def test_within_the_limit_passes(owner, counts):
    values, _ = counts
    values["generations_per_day"] = 99
    usage = quota_check(user=owner, kind="generations_per_day")
    assert (usage.used, usage.limit) == (99, 100)


def test_daily_limit_is_429_until_midnight_utc(owner, counts):
    values, seen_since = counts
    values["generations_per_day"] = 100
    with pytest.raises(LimitExceeded) as error:
        quota_check(user=owner, kind="generations_per_day")
    assert error.value.status_code == 429
    assert error.value.code == "generations_per_day_limit"
    assert "100 generations a day" in error.value.message
    now = timezone.now()
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert seen_since["generations_per_day"] == midnight
    seconds_left = 86400 - (now - midnight).total_seconds()
    assert abs(error.value.retry_after - seconds_left) < 5


def test_monthly_limit_resets_on_the_first(owner, counts):
    values, _ = counts
    values["trainings_per_month"] = 3
    with pytest.raises(LimitExceeded) as error:
        quota_check(user=owner, kind="trainings_per_month")
    assert error.value.status_code == 429
    assert " 1 " in error.value.message and "00:00 UTC" in error.value.message
    usage = quota_usage(
        user=owner, kind="trainings_per_month", now=datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    )
    assert usage.resets_at == datetime(2027, 1, 1, tzinfo=UTC)


def test_model_and_storage_limits_are_403_and_say_what_to_do(owner, counts):
    values, _ = counts
    values["models"] = 2
    with pytest.raises(LimitExceeded) as error:
        quota_check(user=owner, kind="models")
    assert error.value.status_code == 403
    assert error.value.retry_after is None
    assert "allows 2 models and you have 2" in error.value.message

    values["storage_bytes"] = 2 * 1024**3 - 100
    quota_check(user=owner, kind="storage_bytes", amount=100)
    with pytest.raises(LimitExceeded) as error:
        quota_check(user=owner, kind="storage_bytes", amount=5_000_000)
    assert error.value.code == "storage_bytes_limit"
    assert "2.0\xa0GB" in error.value.message


def test_an_empty_limit_means_none_and_plans_are_per_user(owner, other_user, counts):
    values, _ = counts
    values["models"] = 1000
    big = Plan.objects.create(name="Studio", max_models=None)
    other_user.plan = big
    other_user.save()
    quota_check(user=other_user, kind="models")
    with pytest.raises(LimitExceeded):
        quota_check(user=owner, kind="models")


def test_counters_from_several_apps_add_up(owner, counts):
    values, _ = counts
    values["storage_bytes"] = 10

    def images_bytes(*, user, since):
        return 5

    register_usage_counter("storage_bytes", images_bytes)
    register_usage_counter("storage_bytes", images_bytes)  # twice is once
    assert quota_usage(user=owner, kind="storage_bytes").used == 15
    with pytest.raises(ValueError):
        register_usage_counter("fish", images_bytes)


def test_summary_lists_every_limit(owner):
    kinds = [usage.kind for usage in quota_summary(user=owner)]
    assert kinds == ["models", "trainings_per_month", "generations_per_day", "storage_bytes"]


def test_the_default_plan_comes_back_if_it_was_removed(owner):
    Plan.objects.all().delete()
    assert quota_usage(user=owner, kind="models").limit == 2
    assert Plan.objects.get(is_default=True).name == "Free"
