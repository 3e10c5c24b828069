from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import CreditPack, Purchase, StripeEvent


@admin.register(CreditPack)
class CreditPackAdmin(admin.ModelAdmin):
    """The packs on the Buy credits page. A pack bought once is better withdrawn than deleted."""

    list_display = ["name", "credits", "price_display", "is_active", "sort_order"]
    list_editable = ["is_active", "sort_order"]
    list_filter = ["is_active", "currency"]
    fields = ["name", "credits", "price", "currency", "is_active", "sort_order"]

    @admin.display(description="Price", ordering="price")
    def price_display(self, pack):
        return pack.price_display


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdmin):
    """Read-only: a purchase changes only through Stripe's events (refund in Stripe)."""

    list_display = ["created_at", "user", "pack_name", "credits", "price_display", "status"]
    list_filter = ["status"]
    search_fields = ["user__email", "stripe_session_id", "stripe_payment_intent", "id"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"

    @admin.display(description="Price", ordering="price")
    def price_display(self, purchase):
        return purchase.price_display

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Purchase._meta.fields]


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    deletable = True  # only a record of what was processed
    list_display = ["received_at", "type", "event_id"]
    list_filter = ["type"]
    search_fields = ["event_id"]
