"""Prompt rules are edited here by administrators (every change audited, with its reason);
stopped prompts and the audit trail are read-only. Strikes are read-only too; suspensions are
read with their appeals and lifted through `suspension_lift` (audited). Moderators get none of
this: they see stopped prompts on the moderation pages."""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template import engines
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.admin import ReadOnlyAdmin

from .models import AuditRecord, PromptBlock, PromptRule, Strike, Suspension
from .normalise import read
from .prompts import active_rules
from .services import prompt_rule_delete, prompt_rule_save, prompt_rules_set_active
from .strikes import strikes_counting, suspension_lift


class PromptRuleForm(forms.ModelForm):
    change_reason = forms.CharField(
        label="Reason for this change",
        max_length=500,
        widget=forms.TextInput(attrs={"size": 80}),
        help_text="Kept in the audit trail with your name and the change.",
    )

    class Meta:
        model = PromptRule
        fields = [
            "kind",
            "text",
            "category",
            "action",
            "context",
            "exceptions",
            "is_active",
            "note",
        ]
        widgets = {
            "text": forms.Textarea(attrs={"rows": 3, "cols": 80}),
            "context": forms.Textarea(attrs={"rows": 3, "cols": 80}),
            "exceptions": forms.Textarea(attrs={"rows": 2, "cols": 80}),
            "note": forms.Textarea(attrs={"rows": 2, "cols": 80}),
        }


class PromptTestForm(forms.Form):
    prompt = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "cols": 80}), max_length=2000)


@admin.register(PromptRule)
class PromptRuleAdmin(admin.ModelAdmin):
    form = PromptRuleForm
    list_display = ["id", "short_text", "kind", "category", "action", "has_context", "is_active"]
    list_display_links = ["id", "short_text"]
    list_filter = ["category", "action", "kind", "is_active"]
    search_fields = ["text", "context", "exceptions", "note"]
    readonly_fields = ["created_at", "created_by", "updated_at", "updated_by"]
    fieldsets = (
        (None, {"fields": ("kind", "text", "category", "action", "is_active")}),
        ("Conditions", {"fields": ("context", "exceptions")}),
        (None, {"fields": ("note", "change_reason")}),
        ("History", {"fields": ("created_at", "created_by", "updated_at", "updated_by")}),
    )
    actions = ["activate", "deactivate"]

    @admin.display(description="Text")
    def short_text(self, obj):
        return obj.text if len(obj.text) <= 80 else obj.text[:77] + "…"

    @admin.display(description="Context", boolean=True)
    def has_context(self, obj):
        return bool(obj.context)

    def save_model(self, request, obj, form, change):
        prompt_rule_save(rule=obj, actor=request.user, reason=form.cleaned_data["change_reason"])

    def delete_model(self, request, obj):
        prompt_rule_delete(rule=obj, actor=request.user, reason="Deleted in the admin")

    def delete_queryset(self, request, queryset):
        for rule in queryset:
            prompt_rule_delete(rule=rule, actor=request.user, reason="Deleted in the admin")

    @admin.action(description="Activate the selected rules", permissions=["change"])
    def activate(self, request, queryset):
        count = prompt_rules_set_active(
            rules=queryset, is_active=True, actor=request.user, reason="Activated in the admin"
        )
        self.message_user(request, f"{count} rule(s) activated.")

    @admin.action(description="Deactivate the selected rules", permissions=["change"])
    def deactivate(self, request, queryset):
        count = prompt_rules_set_active(
            rules=queryset, is_active=False, actor=request.user, reason="Deactivated in the admin"
        )
        self.message_user(request, f"{count} rule(s) deactivated.")

    def get_urls(self):
        test_view = self.admin_site.admin_view(self.test_prompt_view)
        return [
            path("test/", test_view, name="moderation_promptrule_test"),
            *super().get_urls(),
        ]

    def test_prompt_view(self, request):
        """Try a prompt against the active rules: the verdict and how the prompt was read."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PromptTestForm(request.POST or None)
        verdict = reading = rule_url = None
        if request.method == "POST" and form.is_valid():
            prompt = form.cleaned_data["prompt"]
            verdict = active_rules().screen(prompt)
            reading = read(prompt)
            if verdict is not None:
                rule_url = reverse("admin:moderation_promptrule_change", args=[verdict.rule_id])
            else:
                messages.success(request, "No rule fires: this prompt would go ahead.")
        context = {
            **self.admin_site.each_context(request),
            "title": "Test a prompt against the rules",
            "opts": self.model._meta,
            "form": form,
            "verdict": verdict,
            "reading": reading,
            "rule_url": rule_url,
        }
        return TemplateResponse(request, "admin/moderation/promptrule/test_prompt.html", context)


@admin.register(PromptBlock)
class PromptBlockAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "user", "category", "action", "source", "rule_id", "prompt"]
    list_filter = ["category", "action", "source"]
    search_fields = ["prompt", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "created_at"


@admin.register(AuditRecord)
class AuditRecordAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "object_type", "object_id", "summary"]
    list_filter = ["action", "object_type"]
    search_fields = ["summary", "reason", "object_id", "actor__email"]
    list_select_related = ["actor"]
    date_hierarchy = "created_at"


# --- Asking for a reason before acting (image decisions, lifting a suspension) ---------------

_REASON_PAGE = engines["django"].from_string(
    """{% extends "admin/base_site.html" %}
{% block breadcrumbs %}<div class="breadcrumbs"><a href="{% url 'admin:index' %}">Home</a>
&rsaquo; <a href="{{ back_url }}">{{ opts.verbose_name_plural|capfirst }}</a>
&rsaquo; {{ title }}</div>{% endblock %}
{% block content %}
<p>{{ intro }}</p>
<ul>{% for item in items %}<li>{{ item }}</li>{% endfor %}</ul>
<form method="post">{% csrf_token %}
{{ form.as_p }}
{% for name, value in hidden %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<input type="submit" value="{{ submit }}">
<a href="{{ back_url }}" class="button cancel-link">Cancel</a>
</form>
{% endblock %}"""
)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason", max_length=300, widget=forms.TextInput(attrs={"size": 80})
    )


def ask_reason(
    model_admin,
    request,
    *,
    objects,
    title: str,
    intro: str,
    submit: str,
    initial: str = "",
    help_text: str = "Kept in the audit trail with your name.",
    items=None,
    action: str | None = None,
):
    """The page shown before an admin action (or a button) acts: what it acts on, and the
    reason to record. Returns (reason, None) once submitted, else (None, the page to show).

    `action`: the admin action's name, so the page posts back to the changelist's action."""
    submitted = request.method == "POST" and "apply" in request.POST
    form = ReasonForm(request.POST if submitted else None, initial={"reason": initial})
    form.fields["reason"].help_text = help_text
    if submitted and form.is_valid():
        return form.cleaned_data["reason"], None
    objects = list(objects)
    hidden = [("apply", "1")]
    if action:
        hidden += [("action", action)] + [(ACTION_CHECKBOX_NAME, obj.pk) for obj in objects]
    opts = model_admin.model._meta
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": opts,
        "intro": intro,
        "items": items if items is not None else [str(obj) for obj in objects],
        "form": form,
        "hidden": hidden,
        "submit": submit,
        "back_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"),
    }
    return None, TemplateResponse(request, _REASON_PAGE, context)


# --- Strikes and suspensions ----------------------------------------------------------------


@admin.register(Strike)
class StrikeAdmin(ReadOnlyAdmin):
    """Each count against a user; search by e-mail for one user's strikes."""

    list_display = ["created_at", "user", "kind", "category", "reference", "counting"]
    list_filter = ["kind", "category"]
    search_fields = ["user__email", "reference"]
    list_select_related = ["user"]
    list_per_page = 50
    date_hierarchy = "created_at"

    @admin.display(description="User's strikes counting now")
    def counting(self, obj):
        return f"{strikes_counting(user=obj.user)} of {settings.MODERATION_STRIKE_LIMIT}"


class SuspensionStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("active", "Active"), ("lifted", "Lifted")]

    def queryset(self, request, queryset):
        if self.value() in ("active", "lifted"):
            return queryset.filter(lifted_at__isnull=self.value() == "active")
        return queryset


class SuspensionAppealFilter(admin.SimpleListFilter):
    title = "appeal"
    parameter_name = "appealed"

    def lookups(self, request, model_admin):
        return [("yes", "Appealed"), ("no", "Not appealed")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(appealed_at__isnull=self.value() == "no")
        return queryset


@admin.register(Suspension)
class SuspensionAdmin(ReadOnlyAdmin):
    """Suspended users, their appeals, and lifting (audited, with the administrator's name):
    never edited by hand, so `lifted_at` changes only through `suspension_lift`."""

    list_display = [
        "user",
        "state",
        "reason",
        "created_at",
        "appeal_excerpt",
        "appealed_at",
        "lifted_at",
        "lifted_by",
    ]
    list_filter = [SuspensionStateFilter, SuspensionAppealFilter]
    search_fields = ["user__email", "reason", "appeal"]
    list_select_related = ["user", "lifted_by"]
    date_hierarchy = "created_at"
    fields = [
        "user",
        "state",
        "reason",
        "created_at",
        "strikes",
        "appeal",
        "appealed_at",
        "lifted_at",
        "lifted_by",
        "lift_reason",
        "lift_button",
    ]
    readonly_fields = fields
    actions = ["lift"]

    def has_lift_permission(self, request):
        return request.user.has_perm("moderation.change_suspension")

    @admin.display(description="State")
    def state(self, obj):
        return "Active" if obj.is_active else "Lifted"

    @admin.display(description="Appeal")
    def appeal_excerpt(self, obj):
        return obj.appeal if len(obj.appeal) <= 80 else obj.appeal[:77] + "…"

    @admin.display(description="Strikes")
    def strikes(self, obj):
        url = reverse("admin:moderation_strike_changelist")
        return format_html(
            '{} counting towards the next suspension · <a href="{}?q={}">all strikes</a>',
            strikes_counting(user=obj.user),
            url,
            obj.user.email,
        )

    @admin.display(description="Lift")
    def lift_button(self, obj):
        if not obj.is_active:
            return "-"
        url = reverse("admin:moderation_suspension_lift", args=[obj.pk])
        return format_html('<a class="button" href="{}">Lift suspension</a>', url)

    @admin.action(description="Lift the selected suspensions", permissions=["lift"])
    def lift(self, request, queryset):
        active = queryset.filter(lifted_at__isnull=True).select_related("user")
        if not active.exists():
            self.message_user(request, "None of these suspensions is active.", messages.INFO)
            return None
        reason, page = ask_reason(
            self,
            request,
            objects=active,
            action="lift",
            title="Lift suspensions",
            intro="These accounts may generate and train again; earlier strikes stop counting.",
            submit="Lift",
            initial="Appeal accepted.",
        )
        if page is not None:
            return page
        lifted = [suspension_lift(suspension=s, actor=request.user, reason=reason) for s in active]
        self.message_user(request, f"{len(lifted)} suspension(s) lifted.", messages.SUCCESS)
        return None

    def get_urls(self):
        lift = path(
            "<int:user_id>/lift/",
            self.admin_site.admin_view(self.lift_view),
            name="moderation_suspension_lift",
        )
        return [lift, *super().get_urls()]

    def lift_view(self, request, user_id):
        """The change page's button: one suspension, lifted with a reason."""
        if not self.has_lift_permission(request):
            raise PermissionDenied
        suspension = get_object_or_404(Suspension.objects.select_related("user"), pk=user_id)
        change_url = reverse("admin:moderation_suspension_change", args=[suspension.pk])
        if not suspension.is_active:
            self.message_user(request, "This suspension was already lifted.", messages.INFO)
            return redirect(change_url)
        reason, page = ask_reason(
            self,
            request,
            objects=[suspension],
            title="Lift this suspension",
            intro="This account may generate and train again; earlier strikes stop counting.",
            submit="Lift",
            initial="Appeal accepted.",
            items=[f"{suspension.user.email}: {suspension.reason}"],
        )
        if page is not None:
            return page
        suspension_lift(suspension=suspension, actor=request.user, reason=reason)
        self.message_user(request, f"{suspension.user.email} may generate again.", messages.SUCCESS)
        return redirect(change_url)
