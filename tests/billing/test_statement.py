"""The credit history reads like a bank statement: one line per action."""

import re

import pytest

from accounts.selectors import credit_statement
from accounts.services import (
    credits_capture,
    credits_grant,
    credits_refund,
    credits_reserve,
)
from billing.models import Purchase
from billing.services import purchase_reverse

from .factories import make_purchase
from .stripe_fake import completed_session, event_body, stripe_signature

pytestmark = pytest.mark.django_db


def _pay(client, purchase):
    body = event_body("checkout.session.completed", completed_session(purchase))
    response = client.post(
        "/webhooks/stripe/",
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": stripe_signature(body)},
    )
    assert response.status_code == 200


def test_a_reservation_and_its_capture_are_one_charged_line(owner):
    credits_grant(user=owner, amount=1000, reason="Welcome gift")
    training = credits_reserve(
        user=owner, amount=200, reason="Training of Me", reference="training_run:1"
    )
    credits_capture(reservation=training)
    failed = credits_reserve(
        user=owner, amount=40, reason="Generation with Me", reference="generation:1"
    )
    credits_refund(reservation=failed)
    credits_reserve(user=owner, amount=40, reason="Generation with Me", reference="generation:2")

    lines = credit_statement(user=owner)

    assert [(line.description, line.amount, line.state) for line in lines] == [
        ("Generation with Me", -40, "reserved"),
        ("Generation with Me", 0, "refunded"),
        ("Training of Me", -200, "charged"),
        ("Welcome gift", 1000, "credited"),
    ]
    assert lines[2].reference == "training_run:1"
    assert sum(line.amount for line in lines) == 1000 - 200 - 40


def test_the_statement_is_the_users_own(owner, stranger):
    credits_grant(user=stranger, amount=10, reason="Not yours")
    assert credit_statement(user=owner) == []


def test_a_bought_pack_and_its_refund_are_two_lines(client, owner, fake_stripe):
    purchase = make_purchase(owner)
    _pay(client, purchase)
    purchase_reverse(purchase=Purchase.objects.get(pk=purchase.pk), status="refunded")

    lines = credit_statement(user=owner)

    assert [(line.amount, line.state) for line in lines] == [(-500, "refunded"), (500, "credited")]
    assert lines[0].description.startswith("Refund: Starter")
    assert lines[1].description.startswith("Bought Starter")


def test_the_profile_shows_one_line_per_action(client, owner, fake_stripe):
    purchase = make_purchase(owner)
    _pay(client, purchase)
    reservation = credits_reserve(user=owner, amount=200, reason="Training of Me")
    credits_capture(reservation=reservation)
    purchase_reverse(purchase=Purchase.objects.get(pk=purchase.pk), status="refunded")
    client.force_login(owner)

    html = client.get("/accounts/profile/").content.decode()

    rows = re.findall(r'<tr data-testid="credit-line">(.*?)</tr>', html, flags=re.S)
    text = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows]
    assert len(rows) == 3, text
    assert "Refund: Starter" in text[0] and "Refunded" in text[0] and "-500" in text[0]
    assert "Training of Me" in text[1] and "Charged" in text[1] and "-200" in text[1]
    assert "Bought Starter" in text[2] and "Credited" in text[2] and "+500" in text[2]
    assert "Spent:" not in html  # the capture is not a line of its own
