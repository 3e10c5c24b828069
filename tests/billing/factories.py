"""Billing objects for tests (tests/security/test_object_urls.py uses them too)."""

from billing.models import CreditPack, Purchase


def make_pack(**fields) -> CreditPack:
    values = {"name": "Starter", "credits": 500, "price": 1250, "currency": "eur", **fields}
    return CreditPack.objects.create(**values)


def make_purchase(user, pack=None, *, status=Purchase.Status.PENDING, session_id=None) -> Purchase:
    """A purchase as `purchase_start` leaves it once Stripe made its session."""
    pack = pack or make_pack()
    purchase = Purchase.objects.create(
        user=user,
        pack=pack,
        pack_name=pack.name,
        credits=pack.credits,
        price=pack.price,
        currency=pack.currency,
        status=status,
    )
    purchase.stripe_session_id = session_id or f"cs_test_{purchase.id.hex}"
    purchase.save(update_fields=["stripe_session_id"])
    return purchase


def billing_one_of_everything(user) -> None:
    """For tests/accounts/test_account_deletion.py: a paid purchase and one still pending."""
    pack = make_pack(name=f"Pack of {user.pk}")
    make_purchase(user, pack, status=Purchase.Status.PAID)
    make_purchase(user, pack)
