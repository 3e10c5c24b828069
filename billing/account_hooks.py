"""What the accounts app needs from billing: the purchases in the data export (they go with
the account by cascade when it is erased)."""

from .models import Purchase


def export_purchases(*, user, archive) -> None:
    rows = [
        {
            "id": str(purchase.id),
            "pack": purchase.pack_name,
            "credits": purchase.credits,
            "price": purchase.price,
            "currency": purchase.currency,
            "status": purchase.status,
            "created_at": purchase.created_at,
        }
        for purchase in Purchase.objects.filter(user=user).order_by("created_at")
    ]
    if rows:
        archive.add_json("billing/purchases.json", rows)
