"""Identity checks in the admin: read-only records of who decided what (the selfie itself is
seen only on the moderation page, and only while it waits)."""

from django.contrib import admin

from .models import IdentityCheck


@admin.register(IdentityCheck)
class IdentityCheckAdmin(admin.ModelAdmin):
    list_display = ("lora_model", "outcome", "distance", "decided_by", "decided_at", "created_at")
    list_filter = ("outcome",)
    fields = (
        "lora_model",
        "training_run",
        "outcome",
        "selfie_captured_at",
        "distance",
        "reason",
        "decided_by",
        "decided_at",
        "created_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
