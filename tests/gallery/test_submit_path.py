"""The submit path: few SQL statements, one lock of the user's row, usage counted only against
limits the plan sets, and credits that still cannot be overdrawn by concurrent submits."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from accounts.models import CreditEntry, Plan
from accounts.selectors import credit_balance
from accounts.services import credits_grant, credits_reserve_many
from core.exceptions import LimitExceeded
from gallery.models import Generation
from tests.factories import UserFactory

URL = "/api/v1/generations/"


def _submit(client, lora, *, batch: int = 4):
    return client.post(
        URL,
        {"lora_model": str(lora.id), "prompt": "a portrait", "num_outputs": 4, "batch": batch},
        format="json",
    )


@pytest.mark.django_db
def test_a_batch_of_four_on_an_unlimited_plan_takes_eleven_statements(
    owner, lora, credits, as_user, django_assert_max_num_queries
):
    owner.plan = Plan.objects.create(name="Unlimited")
    owner.save(update_fields=["plan"])
    client = as_user(owner)
    _submit(client, lora, batch=1)  # loads the prompt rules, once per process
    # Request-level work (user, model, suspension, answer) is 4 of them; the transaction is
    # 2 (SAVEPOINT/RELEASE here, BEGIN/COMMIT in production); the rest: lock, plan, one insert
    # of the generations, one ledger read, one insert of the reservations.
    with django_assert_max_num_queries(11):
        response = _submit(client, lora)
    assert response.status_code == 201, response.json()
    assert len(response.json()["generations"]) == 4
    assert Generation.objects.filter(owner=owner).count() == 5
    assert credit_balance(user=owner) == credits - 5 * 16


@pytest.mark.django_db
def test_the_user_row_is_locked_once_and_unlimited_usage_is_not_summed(
    owner, lora, credits, as_user
):
    owner.plan = Plan.objects.create(name="Unlimited")
    owner.save(update_fields=["plan"])
    client = as_user(owner)
    _submit(client, lora, batch=1)
    with CaptureQueriesContext(connection) as captured:
        response = _submit(client, lora)
    assert response.status_code == 201, response.json()
    statements = [query["sql"] for query in captured.captured_queries]
    assert sum("FOR UPDATE" in sql for sql in statements) == 1
    assert not any("SUM(" in sql and "size_bytes" in sql for sql in statements)
    assert not any('SUM("gallery_generation"' in sql for sql in statements)


@pytest.mark.django_db
def test_a_limited_plan_still_counts_and_refuses_a_batch_over_the_daily_limit(
    owner, lora, credits, as_user
):
    owner.plan = Plan.objects.create(name="Small", max_generations_per_day=10)
    owner.save(update_fields=["plan"])
    client = as_user(owner)
    assert _submit(client, lora, batch=2).status_code == 201  # 8 pictures
    refused = _submit(client, lora, batch=1)  # 4 more would be 12
    assert refused.status_code == 429
    assert refused.json()["code"] == "generations_per_day_limit"
    assert Generation.objects.filter(owner=owner).count() == 2
    assert credit_balance(user=owner) == credits - 2 * 16


@pytest.mark.django_db
def test_a_batch_is_reserved_all_or_nothing_and_a_reference_once(owner):
    credits_grant(user=owner, amount=20, reason="Welcome")
    with pytest.raises(LimitExceeded):
        credits_reserve_many(
            user=owner, reservations=[(8, "a", "generation:a"), (16, "b", "generation:b")]
        )
    assert CreditEntry.objects.filter(user=owner, kind="reserve").count() == 0
    first = credits_reserve_many(user=owner, reservations=[(8, "a", "generation:a")])
    again = credits_reserve_many(
        user=owner, reservations=[(8, "a", "generation:a"), (4, "c", "generation:c")]
    )
    assert again[0].pk == first[0].pk
    assert credit_balance(user=owner) == 20 - 8 - 4


@pytest.mark.django_db(transaction=True)
def test_a_submit_waits_for_the_lock_of_a_concurrent_one_and_cannot_overdraw():
    """The first reservation stays uncommitted for a while; without the row lock the second
    would read the old balance (10) and reserve 7 as well."""
    user = UserFactory(email="submit-race@example.com")
    credits_grant(user=user, amount=10, reason="Welcome")
    first_reserved = threading.Event()
    outcomes: dict[str, str] = {}

    def first():
        try:
            with transaction.atomic():
                credits_reserve_many(user=user, reservations=[(7, "first", "generation:1")])
                first_reserved.set()
                threading.Event().wait(0.5)
            outcomes["first"] = "reserved"
        finally:
            connection.close()

    def second():
        try:
            first_reserved.wait(timeout=10)
            credits_reserve_many(user=user, reservations=[(7, "second", "generation:2")])
            outcomes["second"] = "reserved"
        except LimitExceeded:
            outcomes["second"] = "refused"
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert outcomes == {"first": "reserved", "second": "refused"}
    assert credit_balance(user=user) == 3
