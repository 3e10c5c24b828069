"""Buying a pack: the Buy credits page, the Checkout Session, the purchase's page."""

import re

import pytest
from django.test import Client

from billing.models import Purchase

from .factories import make_pack, make_purchase

pytestmark = pytest.mark.django_db


def test_buying_a_pack_opens_a_checkout_session_with_its_price(client, owner, pack, fake_stripe):
    make_pack(name="Studio", credits=5000, price=9900, currency="eur", sort_order=2)
    client.force_login(owner)

    page = client.get("/credits/buy/").content.decode()
    assert "Starter" in page and "12.50 EUR" in page and "Studio" in page
    response = client.post("/credits/buy/", {"pack": pack.pk})

    purchase = Purchase.objects.get(user=owner)
    [sent] = fake_stripe.session_requests()
    assert response.status_code == 302
    assert response["Location"] == fake_stripe.sessions[purchase.stripe_session_id]["url"]
    assert purchase.status == Purchase.Status.PENDING
    assert (purchase.credits, purchase.price, purchase.currency) == (500, 1250, "eur")
    form = sent["form"]
    assert form["mode"] == "payment"
    assert form["line_items[0][quantity]"] == "1"
    assert form["line_items[0][price_data][unit_amount]"] == "1250"
    assert form["line_items[0][price_data][currency]"] == "eur"
    assert "Starter" in form["line_items[0][price_data][product_data][name]"]
    assert form["client_reference_id"] == str(purchase.id)
    assert form["metadata[purchase_id]"] == str(purchase.id)
    assert form["metadata[user_id]"] == str(owner.public_id)
    assert form["payment_intent_data[metadata][purchase_id]"] == str(purchase.id)
    assert form["success_url"] == f"https://avatars.example.com/credits/purchases/{purchase.id}/"
    assert form["cancel_url"].startswith("https://avatars.example.com/credits/buy/")
    assert sent["headers"]["Authorization"] == "Bearer sk_test_51FakeKeyForTheLocalStripe"
    assert sent["headers"]["Idempotency-Key"] == f"purchase:{purchase.id}"


def test_a_withdrawn_or_unknown_pack_is_a_clear_error_not_a_500(client, owner, pack, fake_stripe):
    withdrawn = make_pack(name="Old", is_active=False)
    client.force_login(owner)

    assert "Old" not in client.get("/credits/buy/").content.decode()
    for value in (withdrawn.pk, "999999", "not-a-number", ""):
        response = client.post("/credits/buy/", {"pack": value}, follow=True)
        assert response.status_code == 200
        assert "This pack is not on sale." in response.content.decode()
    assert not Purchase.objects.exists()
    assert fake_stripe.session_requests() == []


def test_stripe_refusing_the_session_leaves_a_failed_purchase_and_a_message(
    client, owner, pack, fake_stripe
):
    fake_stripe.fail_with = 400
    client.force_login(owner)

    response = client.post("/credits/buy/", {"pack": pack.pk}, follow=True)

    assert response.status_code == 200
    assert "Nothing was charged" in response.content.decode()
    assert Purchase.objects.get(user=owner).status == Purchase.Status.FAILED


def test_buying_needs_a_sign_in_and_a_csrf_token(owner, pack, fake_stripe):
    anonymous = Client()
    response = anonymous.post("/credits/buy/", {"pack": pack.pk})
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")

    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    assert client.post("/credits/buy/", {"pack": pack.pk}).status_code == 403
    assert not Purchase.objects.exists()


def test_without_keys_credits_come_from_the_administrator(client, owner, pack, payments_off):
    client.force_login(owner)

    page = client.get("/credits/buy/").content.decode()
    response = client.post("/credits/buy/", {"pack": pack.pk})

    assert "Credits come from the administrator" in page
    assert "Starter" not in page  # no pack offered
    assert response.status_code == 302
    assert not Purchase.objects.exists()


def test_a_secret_key_alone_is_payments_off(client, owner, pack, settings):
    settings.STRIPE_SECRET_KEY = "sk_test_x"
    settings.STRIPE_WEBHOOK_SECRET = ""
    client.force_login(owner)
    assert "Credits come from the administrator" in client.get("/credits/buy/").content.decode()


def test_the_profile_links_to_buy_credits(client, owner):
    client.force_login(owner)
    assert 'href="/credits/buy/"' in client.get("/accounts/profile/").content.decode()


def test_the_purchase_page_is_its_owners_only(client, owner, stranger, pack):
    purchase = make_purchase(owner, pack, status=Purchase.Status.PAID)

    client.force_login(stranger)
    assert client.get(f"/credits/purchases/{purchase.id}/").status_code == 404
    client.force_login(owner)
    page = client.get(f"/credits/purchases/{purchase.id}/")
    assert page.status_code == 200
    assert "500 credits added" in page.content.decode()
    anonymous = Client().get(f"/credits/purchases/{purchase.id}/")
    assert anonymous.status_code == 302


def test_a_pending_purchase_page_waits_for_stripe(client, owner, pack):
    purchase = make_purchase(owner, pack)
    client.force_login(owner)
    html = client.get(f"/credits/purchases/{purchase.id}/").content.decode()
    assert "Waiting for the payment" in html
    assert re.search(r'hx-trigger="every 3s"', html)
