from allauth.account.models import EmailAddress, EmailConfirmation
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from operations.selectors import dashboard_get

from .models import CreditEntry, DataExport, Plan, User
from .selectors import credit_balance, plan_for_user
from .services import credits_grant, user_moderator_grant

MODERATE_PERMISSION = "accounts.moderate_content"


def admin_site_has_permission(request) -> bool:
    """The admin is for administrators: active staff with a permission besides moderating.

    Moderators (staff whose one permission is `accounts.moderate_content`) work on the
    moderation pages and API and get no admin page at all, not even an empty index: every
    admin view (the index, each model's pages, the views models add) sends them to the admin's
    sign-in page, which says they may not see it.
    """
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or bool(user.get_all_permissions() - {MODERATE_PERMISSION})


# The default site's check, for every admin view (`admin_view`) and the index; set here rather
# than through a custom AdminSite so INSTALLED_APPS keeps django.contrib.admin as it is.
admin.site.has_permission = admin_site_has_permission
admin.site.site_header = f"{settings.SITE_NAME} administration"
admin.site.site_title = f"{settings.SITE_NAME} admin"
admin.site.index_title = "Administration"

# One section per thing an operator looks after. allauth's "Accounts" section (e-mail
# addresses, confirmations) duplicated ours under the same name: a user's addresses and whether
# they are verified are shown on the user's page instead (EmailAddressInline), and pending
# confirmations are allauth's bookkeeping (they expire by themselves). simplejwt's token
# tables are bookkeeping too: access is revoked by signing the user out (accounts.services)
# or deactivating the account, never by editing tokens by hand.
for _model in (EmailAddress, EmailConfirmation, OutstandingToken, BlacklistedToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_default",
        "max_models",
        "max_trainings_per_month",
        "max_generations_per_day",
        "max_storage_bytes",
        "signup_credits",
        "user_count",
    ]
    list_editable = ["is_default"]
    fieldsets = (
        (None, {"fields": ("name", "is_default", "signup_credits")}),
        (
            "Limits (empty: no limit)",
            {
                "fields": (
                    "max_models",
                    "max_trainings_per_month",
                    "max_generations_per_day",
                    "max_storage_bytes",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(user_count=Count("users"))

    @admin.display(description="Users (chosen, not by default)", ordering="user_count")
    def user_count(self, obj):
        return obj.user_count

    def save_model(self, request, obj, form, change):
        if obj.is_default:  # one default at a time
            Plan.objects.exclude(pk=obj.pk).filter(is_default=True).update(is_default=False)
        super().save_model(request, obj, form, change)


class EmailAddressInline(admin.TabularInline):
    """The user's addresses as allauth keeps them, read-only: verifying is the user's link."""

    model = EmailAddress
    fields = ["email", "verified", "primary"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = "e-mail address"
    verbose_name_plural = "e-mail addresses"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ["-date_joined"]
    list_display = ["email", "display_name", "plan_name", "is_staff", "is_active", "date_joined"]
    list_select_related = ["plan"]
    list_filter = ["is_staff", "is_active", "plan", "groups"]
    search_fields = ["email", "display_name"]
    readonly_fields = ["credits", "activity", "deletion_requested_at", "last_login", "date_joined"]
    inlines = [EmailAddressInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "avatar")}),
        ("Plan and credits", {"fields": ("plan", "credits")}),
        ("Activity, last 30 days", {"fields": ("activity",)}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "date_joined", "deletion_requested_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["make_moderator"]

    @admin.display(description="Credit balance")
    def credits(self, obj):
        if obj.pk is None:
            return "-"
        grant_url = reverse("admin:accounts_creditentry_add") + f"?user={obj.pk}"
        history_url = (
            reverse("admin:accounts_creditentry_changelist") + f"?user__id__exact={obj.pk}"
        )
        return format_html(
            '{} credits on the {} plan · <a href="{}">grant credits</a> · <a href="{}">history</a>',
            credit_balance(user=obj),
            plan_for_user(user=obj).name,
            grant_url,
            history_url,
        )

    @admin.display(description="Plan", ordering="plan__name")
    def plan_name(self, obj):
        return obj.plan.name if obj.plan else "Default plan"

    @admin.display(description="Activity")
    def activity(self, obj):
        """The operations dashboard's figures for this user, summed over 30 days."""
        if obj.pk is None:
            return "-"
        board = dashboard_get(days=30, user=obj)
        rows = [
            ("Trainings started / succeeded / failed", _job_totals(board.trainings)),
            ("Generations started / succeeded / failed", _job_totals(board.generations)),
            (
                "Credits granted / spent / refunded",
                " / ".join(
                    str(sum(getattr(day, kind) for day in board.credits))
                    for kind in ("granted", "spent", "refunded")
                ),
            ),
            (
                "Replicate GPU seconds (estimated cost)",
                f"{sum(d.training_seconds + d.generation_seconds for d in board.costs):.1f} "
                f"(${board.total_cost:.2f})",
            ),
            (
                "Failures by reason",
                ", ".join(f"{reason}: {t + g}" for reason, t, g in board.failures) or "none",
            ),
        ]
        url = reverse("operations:dashboard") + f"?days=30&user={obj.public_id}"
        return format_html(
            '<table class="user-activity"><tbody>{}</tbody></table>'
            '<p><a href="{}">Charts per day on the operations dashboard</a></p>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
            url,
        )

    @admin.action(description="Make moderator (staff, moderation pages only)")
    def make_moderator(self, request, queryset):
        for user in queryset:
            user_moderator_grant(user=user)
        self.message_user(request, f"{queryset.count()} user(s) can now moderate.")


def _job_totals(days) -> str:
    return " / ".join(
        str(sum(getattr(day, kind) for day in days)) for kind in ("started", "succeeded", "failed")
    )


class CreditGrantForm(forms.ModelForm):
    class Meta:
        model = CreditEntry
        fields = ["user", "amount", "reason"]
        help_texts = {"amount": "Credits to add (a positive number)."}

    def clean_amount(self):
        amount = self.cleaned_data["amount"]
        if amount is None or amount <= 0:
            raise forms.ValidationError("Grant a positive number of credits.")
        return amount


@admin.register(CreditEntry)
class CreditEntryAdmin(admin.ModelAdmin):
    """The ledger is append-only: administrators add grants; nothing is edited or removed."""

    list_display = ["created_at", "user", "kind", "amount", "reason", "reference", "granted_by"]
    list_filter = ["kind"]
    search_fields = ["user__email", "reason", "reference"]
    list_select_related = ["user", "granted_by"]
    autocomplete_fields = ["user"]
    date_hierarchy = "created_at"

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = CreditGrantForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["user", "amount", "reason"]
        return ["user", "kind", "amount", "reason", "reference", "reservation", "granted_by"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.get_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return
        entry = credits_grant(
            user=form.cleaned_data["user"],
            amount=form.cleaned_data["amount"],
            reason=form.cleaned_data["reason"],
            granted_by=request.user,
        )
        obj.pk, obj.kind, obj.created_at = entry.pk, entry.kind, entry.created_at
        messages.info(request, f"{entry.user} now has {credit_balance(user=entry.user)} credits.")

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    list_display = ["id", "user", "status", "size_bytes", "created_at", "expires_at"]
    list_filter = ["status"]
    search_fields = ["user__email"]
    readonly_fields = [f.name for f in DataExport._meta.fields]

    def has_add_permission(self, request):
        return False
