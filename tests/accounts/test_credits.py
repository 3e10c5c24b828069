import threading
import time

import pytest
from django.db import connection

from accounts import services
from accounts.models import CreditEntry
from accounts.selectors import credit_balance, credit_history, credit_reserved
from accounts.services import credits_capture, credits_grant, credits_refund, credits_reserve
from core.exceptions import DomainError, LimitExceeded
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_balance_is_the_sum_of_the_ledger(owner):
    assert credit_balance(user=owner) == 0
    credits_grant(user=owner, amount=100, reason="Welcome")
    reservation = credits_reserve(user=owner, amount=30, reason="Training", reference="t:1")
    assert credit_balance(user=owner) == 70
    assert credit_reserved(user=owner) == 30

    credits_capture(reservation=reservation)
    assert credit_balance(user=owner) == 70
    assert credit_reserved(user=owner) == 0

    second = credits_reserve(user=owner, amount=20, reason="Generation", reference="g:1")
    assert credit_balance(user=owner) == 50
    credits_refund(reservation=second)
    assert credit_balance(user=owner) == 70
    kinds = [entry.kind for entry in credit_history(user=owner)]
    assert kinds == ["refund", "reserve", "capture", "reserve", "grant"]


def test_capture_and_refund_are_idempotent_and_exclusive(owner):
    credits_grant(user=owner, amount=50, reason="Welcome")
    reservation = credits_reserve(user=owner, amount=10, reason="Generation")

    first = credits_capture(reservation=reservation)
    assert credits_capture(reservation=reservation.pk) == first
    # A late failure report after success changes nothing: the reservation is settled.
    assert credits_refund(reservation=reservation) == first
    assert credit_balance(user=owner) == 40
    assert CreditEntry.objects.filter(reservation=reservation).count() == 1

    other = credits_reserve(user=owner, amount=5, reason="Generation")
    refund = credits_refund(reservation=other)
    assert credits_refund(reservation=other) == refund
    assert credits_capture(reservation=other) == refund
    assert credit_balance(user=owner) == 40


def test_only_reservations_can_be_settled(owner):
    grant = credits_grant(user=owner, amount=5, reason="Welcome")
    with pytest.raises(ValueError):
        credits_capture(reservation=grant)


def test_a_short_balance_refuses_the_reservation_with_a_clear_message(owner):
    credits_grant(user=owner, amount=5, reason="Welcome")
    with pytest.raises(LimitExceeded) as error:
        credits_reserve(user=owner, amount=8, reason="Training")
    assert error.value.status_code == 403
    assert error.value.code == "insufficient_credits"
    assert "needs 8 credits" in error.value.message
    assert "balance is 5" in error.value.message
    assert CreditEntry.objects.filter(user=owner, kind="reserve").count() == 0


def test_amounts_must_be_positive(owner):
    with pytest.raises(DomainError):
        credits_grant(user=owner, amount=0, reason="Nothing")
    with pytest.raises(DomainError):
        credits_reserve(user=owner, amount=-3, reason="Negative")


def test_a_reference_makes_grants_and_reservations_idempotent(owner, other_user):
    first = credits_grant(user=owner, amount=10, reason="Payment", reference="payment:abc")
    again = credits_grant(user=owner, amount=10, reason="Payment", reference="payment:abc")
    assert again == first
    assert credit_balance(user=owner) == 10

    reservation = credits_reserve(user=owner, amount=4, reason="Training", reference="run:1")
    assert credits_reserve(user=owner, amount=4, reason="Training", reference="run:1") == (
        reservation
    )
    assert credit_balance(user=owner) == 6
    with pytest.raises(DomainError):
        credits_reserve(user=other_user, amount=1, reason="Training", reference="run:1")


def test_balances_are_per_user(owner, other_user):
    credits_grant(user=owner, amount=10, reason="Welcome")
    credits_grant(user=other_user, amount=3, reason="Welcome")
    credits_reserve(user=owner, amount=4, reason="Training")
    assert credit_balance(user=owner) == 6
    assert credit_balance(user=other_user) == 3
    assert list(credit_history(user=other_user).values_list("amount", flat=True)) == [3]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reservations_cannot_overdraw(monkeypatch):
    """Both requests read the balance at the same moment; only the lock keeps it above zero.

    Each reservation reads the balance and then waits, so that without the per-user lock
    both would see 10 credits and both would reserve 7. Runs on PostgreSQL (row lock) and on
    SQLite (the write transaction begins IMMEDIATE).
    """
    user = UserFactory(email="race@example.com")
    credits_grant(user=user, amount=10, reason="Welcome")
    real_balance = credit_balance
    real_ledger = services._credit_ledger

    def slow_ledger(**kwargs):
        value = real_ledger(**kwargs)
        time.sleep(0.4)
        return value

    monkeypatch.setattr(services, "_credit_ledger", slow_ledger)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def reserve(name):
        try:
            barrier.wait(timeout=10)
            credits_reserve(user=user, amount=7, reason=f"Generation {name}")
            outcomes.append("reserved")
        except LimitExceeded:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=reserve, args=(n,)) for n in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes) == ["refused", "reserved"]
    assert real_balance(user=user) == 3
