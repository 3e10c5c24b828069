"""The Stripe webhook: signed events grant a purchase's credits once, and take them back once."""

import threading
import time

import pytest
import stripe
from django.db import connection
from django.test import Client

from accounts.models import CreditEntry
from accounts.selectors import credit_balance
from accounts.services import credits_capture, credits_reserve
from billing.models import Purchase, StripeEvent

from .factories import make_purchase
from .stripe_fake import (
    WEBHOOK_SECRET,
    completed_session,
    created_dispute,
    event_body,
    refunded_charge,
    stripe_signature,
)

URL = "/webhooks/stripe/"


def deliver(body: bytes, *, signature: str | None = None, client: Client | None = None):
    client = client or Client()
    return client.post(
        URL,
        data=body,
        content_type="application/json",
        headers={
            "Stripe-Signature": signature if signature is not None else stripe_signature(body)
        },
    )


def grants(purchase) -> list[CreditEntry]:
    return list(CreditEntry.objects.filter(reference=purchase.credit_reference))


def take_backs(purchase) -> list[CreditEntry]:
    return list(CreditEntry.objects.filter(reference=purchase.reversal_reference))


# --- Signatures -------------------------------------------------------------------------------


def test_the_locally_signed_header_is_what_stripe_itself_accepts():
    body = event_body("checkout.session.completed", {"id": "cs_test_1"}, event_id="evt_1")
    event = stripe.Webhook.construct_event(body, stripe_signature(body), WEBHOOK_SECRET)
    assert event.id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(
            body, stripe_signature(body, secret="whsec_x"), WEBHOOK_SECRET
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    "how",
    ["wrong secret", "five minutes and more old", "body changed", "no header", "garbage header"],
)
def test_a_bad_or_expired_signature_is_refused_with_400(how, owner, pack, fake_stripe):
    purchase = make_purchase(owner, pack)
    body = event_body("checkout.session.completed", completed_session(purchase))
    signature = {
        "wrong secret": stripe_signature(body, secret="whsec_not_ours"),
        "five minutes and more old": stripe_signature(body, timestamp=time.time() - 301),
        "body changed": stripe_signature(body.replace(b"paid", b"paiD")),
        "no header": "",
        "garbage header": "t=abc,v1=",
    }[how]

    response = deliver(body, signature=signature)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert credit_balance(user=owner) == 0
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
def test_a_signed_body_that_is_not_json_is_400_not_500(fake_stripe):
    body = b"\xff not json"
    assert deliver(body).status_code == 400


@pytest.mark.django_db
def test_without_keys_the_webhook_is_404(owner, pack, payments_off):
    purchase = make_purchase(owner, pack)
    body = event_body("checkout.session.completed", completed_session(purchase))
    assert deliver(body).status_code == 404
    assert credit_balance(user=owner) == 0


# --- Granting ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_paid_session_grants_the_packs_credits_once_under_redeliveries(owner, pack, fake_stripe):
    purchase = make_purchase(owner, pack)
    body = event_body("checkout.session.completed", completed_session(purchase))

    first = deliver(body)
    again = deliver(body)  # Stripe redelivers the same event (same id)
    # The same session under another event id (async_payment_succeeded, a resend)
    other = deliver(
        event_body("checkout.session.async_payment_succeeded", completed_session(purchase))
    )

    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 200)
    assert credit_balance(user=owner) == 500
    [grant] = grants(purchase)
    assert grant.amount == 500 and grant.user == owner
    assert "Starter" in grant.reason
    purchase.refresh_from_db()
    assert purchase.status == Purchase.Status.PAID
    assert purchase.stripe_payment_intent == f"pi_{purchase.id.hex[:24]}"
    assert StripeEvent.objects.count() == 2


@pytest.mark.django_db
def test_an_unpaid_completion_grants_nothing_until_the_payment_succeeds(owner, pack, fake_stripe):
    purchase = make_purchase(owner, pack)

    deliver(
        event_body(
            "checkout.session.completed", completed_session(purchase, payment_status="unpaid")
        )
    )
    assert credit_balance(user=owner) == 0
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.PENDING

    deliver(event_body("checkout.session.async_payment_succeeded", completed_session(purchase)))
    assert credit_balance(user=owner) == 500


@pytest.mark.django_db
def test_a_session_naming_another_users_purchase_grants_nothing(owner, stranger, pack, fake_stripe):
    purchase = make_purchase(owner, pack)
    session = completed_session(purchase)
    session["metadata"]["user_id"] = str(stranger.public_id)
    assert deliver(event_body("checkout.session.completed", session)).status_code == 200
    assert credit_balance(user=owner) == 0 and credit_balance(user=stranger) == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    "event_type", ["customer.created", "invoice.paid", "payment_intent.succeeded", ""]
)
def test_unknown_events_are_200_and_change_nothing(event_type, owner, pack, fake_stripe):
    purchase = make_purchase(owner, pack)
    response = deliver(event_body(event_type, completed_session(purchase)))
    assert response.status_code == 200
    assert credit_balance(user=owner) == 0
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.PENDING


@pytest.mark.django_db
def test_a_session_of_someone_elses_integration_is_ignored(fake_stripe):
    session = {"id": "cs_live_x", "object": "checkout.session", "payment_status": "paid"}
    assert deliver(event_body("checkout.session.completed", session)).status_code == 200
    assert not CreditEntry.objects.exists()


def _deliver_at_once(bodies: list[bytes]) -> list[int]:
    """Each body from its own thread (its own connection to the database), all released at once."""
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []
    errors: list[BaseException] = []

    def send(body):
        try:
            client = Client()
            barrier.wait(timeout=10)
            statuses.append(deliver(body, client=client).status_code)
        except BaseException as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return statuses


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_grant_once(owner, pack, fake_stripe):
    purchase = make_purchase(owner, pack)
    same = event_body("checkout.session.completed", completed_session(purchase))
    other_id = event_body("checkout.session.async_payment_succeeded", completed_session(purchase))

    statuses = _deliver_at_once([same] * 6 + [other_id] * 2)

    assert statuses == [200] * 8
    assert len(grants(purchase)) == 1
    assert credit_balance(user=owner) == 500
    assert StripeEvent.objects.count() == 2


# --- Taking back --------------------------------------------------------------------------------


def _paid(owner, pack):
    purchase = make_purchase(owner, pack)
    assert (
        deliver(event_body("checkout.session.completed", completed_session(purchase))).status_code
        == 200
    )
    assert credit_balance(user=owner) == 500
    return purchase


@pytest.mark.django_db
def test_a_full_refund_takes_the_credits_back_once(owner, pack, fake_stripe):
    purchase = _paid(owner, pack)
    refund = event_body("charge.refunded", refunded_charge(purchase))

    assert deliver(refund).status_code == 200
    assert deliver(refund).status_code == 200  # redelivered
    deliver(event_body("charge.refunded", refunded_charge(purchase)))  # another event id
    deliver(event_body("charge.dispute.created", created_dispute(purchase)))  # then disputed

    assert credit_balance(user=owner) == 0
    [back] = take_backs(purchase)
    assert back.amount == -500 and back.reason.startswith("Refund")
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.REFUNDED


@pytest.mark.django_db
def test_a_partial_refund_leaves_the_credits(owner, pack, fake_stripe):
    purchase = _paid(owner, pack)
    deliver(event_body("charge.refunded", refunded_charge(purchase, full=False)))
    assert credit_balance(user=owner) == 500
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.PAID


@pytest.mark.django_db
def test_a_dispute_takes_the_credits_back_once_even_when_spent(owner, pack, fake_stripe):
    purchase = _paid(owner, pack)
    reservation = credits_reserve(user=owner, amount=300, reason="Training of Me")
    credits_capture(reservation=reservation)
    dispute = event_body("charge.dispute.created", created_dispute(purchase))

    assert deliver(dispute).status_code == 200
    assert deliver(dispute).status_code == 200
    deliver(event_body("charge.refunded", refunded_charge(purchase)))  # refunded as well

    # The spent credits are owed: the balance goes below zero, and no new work can start.
    assert credit_balance(user=owner) == -300
    [back] = take_backs(purchase)
    assert back.amount == -500 and back.reason.startswith("Disputed payment")
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.DISPUTED


@pytest.mark.django_db
def test_a_refund_before_the_completion_means_no_grant_at_all(owner, pack, fake_stripe):
    purchase = make_purchase(owner, pack)
    deliver(event_body("charge.refunded", refunded_charge(purchase, intent="pi_unknown_yet")))
    deliver(event_body("checkout.session.completed", completed_session(purchase)))
    assert credit_balance(user=owner) == 0
    assert not grants(purchase) and not take_backs(purchase)
    assert Purchase.objects.get(pk=purchase.pk).status == Purchase.Status.REFUNDED


@pytest.mark.django_db(transaction=True)
def test_concurrent_refund_and_dispute_take_back_once(owner, pack, fake_stripe):
    purchase = _paid(owner, pack)
    refund = event_body("charge.refunded", refunded_charge(purchase))
    dispute = event_body("charge.dispute.created", created_dispute(purchase))

    assert _deliver_at_once([refund, refund, dispute, dispute, refund]) == [200] * 5

    assert len(take_backs(purchase)) == 1
    assert credit_balance(user=owner) == 0
