"""Credit packs an administrator sells, the purchases of them, and the Stripe events seen."""

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

# Currencies Stripe counts in whole units (no cents): a price of 500 JPY is 500, not 5.00.
ZERO_DECIMAL_CURRENCIES = frozenset(
    "bif clp djf gnf jpy kmf krw mga pyg rwf ugx vnd vuv xaf xof xpf".split()  # noqa: SIM905
)


def price_display(amount: int, currency: str) -> str:
    """`1250, "eur"` → "12.50 EUR"; a zero-decimal currency has no fraction."""
    code = currency.upper()
    if currency.lower() in ZERO_DECIMAL_CURRENCIES:
        return f"{amount:,} {code}"
    return f"{amount // 100:,}.{amount % 100:02d} {code}"


class CreditPack(models.Model):
    """A number of credits for a price, on sale while active (set up in the admin)."""

    name = models.CharField(max_length=80)
    credits = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    price = models.PositiveIntegerField(
        validators=[MinValueValidator(1)],
        help_text="In the currency's smallest unit: 1250 is 12.50 USD (500 is 500 JPY).",
    )
    currency = models.CharField(
        max_length=3,
        default="usd",
        validators=[RegexValidator(r"^[a-z]{3}$", "A three-letter ISO code in lower case.")],
        help_text="ISO 4217, lower case (usd, eur, gbp…).",
    )
    is_active = models.BooleanField(default=True, help_text="Offered on the Buy credits page.")
    sort_order = models.PositiveIntegerField(default=0, help_text="Smaller first.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sort_order", "price", "id"]

    def __str__(self):
        return f"{self.name} ({self.credits} credits, {self.price_display})"

    def clean(self):
        self.currency = (self.currency or "").strip().lower()

    @property
    def price_display(self) -> str:
        return price_display(self.price, self.currency)


class Purchase(models.Model):
    """One checkout of a pack: recorded before the buyer goes to Stripe, paid by its webhook.

    Its status only moves forward (services.py, conditional updates): pending → paid → refunded
    or disputed; pending → expired or failed. The pack's name, credits and price are copied so
    that an edited or deleted pack does not change what was bought.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for payment"
        PAID = "paid", "Paid"
        FAILED = "failed", "Could not start"
        EXPIRED = "expired", "Not paid"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="purchases"
    )
    pack = models.ForeignKey(
        CreditPack, null=True, blank=True, on_delete=models.SET_NULL, related_name="purchases"
    )
    pack_name = models.CharField(max_length=80)
    credits = models.PositiveIntegerField()
    price = models.PositiveIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    stripe_session_id = models.CharField(max_length=255, null=True, blank=True, unique=True)
    stripe_payment_intent = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.pack_name} for {self.user_id} ({self.status})"

    @property
    def price_display(self) -> str:
        return price_display(self.price, self.currency)

    @property
    def credit_reference(self) -> str:
        """The grant's reference: one grant per Checkout Session, whatever the deliveries."""
        return f"stripe:{self.stripe_session_id}"

    @property
    def reversal_reference(self) -> str:
        """The take-back's reference: one per purchase, a refund and a dispute together."""
        return f"stripe:{self.stripe_session_id}:reversal"


class StripeEvent(models.Model):
    """A Stripe event already handled: its id is unique, so a redelivery changes nothing."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at"]

    def __str__(self):
        return f"{self.type} {self.event_id}"
