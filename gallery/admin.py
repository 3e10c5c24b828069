"""Admin: the catalogue (style presets with example pictures, style LoRAs) is edited here;
generations and images are shown read-only for support. Images are listed with thumbnails and
their moderation (state, reason, the scan's verdict, reports, decisions); administrators who
may moderate approve or reject them with an action that calls `services.image_decide` (audited,
with their name), never by editing the state. Pictures are served to staff who may view images
through this admin's own views (the owner's file views are a 404 to anyone else). Moderators
(staff with only `accounts.moderate_content`) get no page here: see accounts/admin.py.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from accounts.selectors import user_is_moderator
from core.exceptions import Conflict
from moderation.admin import ask_reason

from . import services
from .media import image_file_response
from .models import (
    Collection,
    GeneratedImage,
    Generation,
    ImageDecision,
    ImageReport,
    ImageScan,
    ShareLink,
    StyleLora,
    StylePreset,
    StylePresetExample,
)
from .services.review import REJECTED_DEFAULT

Moderation = GeneratedImage.Moderation


def _catalogue_preview(kind, pk, stored):
    if not stored:
        return "-"
    url = reverse("gallery:catalogue-image", kwargs={"kind": kind, "pk": pk})
    return format_html(
        '<img src="{}" alt="" loading="lazy" style="max-width:96px;max-height:96px">', url
    )


class StylePresetExampleInline(admin.TabularInline):
    """Examples come from pictures made on the platform, through the images' action "Use as
    example of its style"; here they are ordered or removed, never uploaded."""

    model = StylePresetExample
    extra = 0
    fields = ["picture", "position", "source_note", "created_at"]
    readonly_fields = ["picture", "source_note", "created_at"]

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description="Picture")
    def picture(self, obj):
        return _catalogue_preview("example", obj.pk, obj.image)


@admin.register(StylePreset)
class StylePresetAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "is_active",
        "in_starter_pack",
        "position",
        "aspect_ratio",
        "style_lora",
    ]
    list_editable = ["is_active", "in_starter_pack", "position"]
    list_filter = ["is_active", "in_starter_pack"]
    search_fields = ["name", "prompt_template"]
    autocomplete_fields = ["style_lora"]
    fields = [
        "name",
        "description",
        "prompt_template",
        "parameters",
        "style_lora",
        "in_starter_pack",
        "is_active",
        "position",
    ]
    inlines = [StylePresetExampleInline]


@admin.register(StyleLora)
class StyleLoraAdmin(admin.ModelAdmin):
    list_display = ["name", "extra_lora", "default_scale", "is_active", "position"]
    list_editable = ["is_active", "position"]
    search_fields = ["name", "extra_lora"]
    fields = [
        "name",
        "description",
        "extra_lora",
        "default_scale",
        "trigger_phrase",
        "example",
        "is_active",
        "position",
    ]
    # Set from a picture made on the platform (the images' action), never uploaded.
    readonly_fields = ["example"]

    @admin.display(description="Example picture")
    def example(self, obj):
        if obj.pk is None or not obj.example_image:
            return "None yet: use the action “Use as example of its style LoRA” on a picture."
        return _catalogue_preview("style", obj.pk, obj.example_image)


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class _Record(_ReadOnly):
    """Rows written only by the services (an image's files, a decision, a report)."""

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Generation)
class GenerationAdmin(_ReadOnly):
    list_display = [
        "id",
        "owner",
        "model_label",
        "kind",
        "status",
        "num_outputs",
        "cost",
        "created_at",
    ]
    list_filter = ["status", "kind", "source"]
    search_fields = ["id", "owner__email", "replicate_id"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"


@admin.register(Collection)
class CollectionAdmin(_ReadOnly):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__email"]
    list_select_related = ["owner"]


@admin.register(ShareLink)
class ShareLinkAdmin(_ReadOnly):
    list_display = ["id", "owner", "image", "collection", "expires_at", "revoked_at", "view_count"]
    list_select_related = ["owner"]


# --- Images and their review ----------------------------------------------------------------


def _change_link(obj, label=None):
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def _thumbnail(image, size=96):
    url = reverse("admin:gallery_generatedimage_thumbnail", args=[image.pk])
    return format_html(
        '<img src="{}" alt="" loading="lazy" style="max-width:{}px;max-height:{}px">',
        url,
        size,
        size,
    )


class ScanVerdictFilter(admin.SimpleListFilter):
    title = "scan verdict"
    parameter_name = "scan"

    def lookups(self, request, model_admin):
        return [*ImageScan.Verdict.choices, ("none", "Not scanned")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(scan__isnull=True)
        if self.value() in ImageScan.Verdict.values:
            return queryset.filter(scan__verdict=self.value())
        return queryset


class ImageDecisionInline(_ReadOnlyInline):
    model = ImageDecision
    fields = ["created_at", "decision", "moderator", "reason"]
    readonly_fields = fields


class ImageReportInline(_ReadOnlyInline):
    model = ImageReport
    fk_name = "image"
    fields = ["created_at", "status", "reporter", "share_link", "reason", "closed_at"]
    readonly_fields = fields


@admin.register(GeneratedImage)
class GeneratedImageAdmin(_Record):
    list_display = [
        "thumb",
        "id",
        "owner",
        "moderation_state",
        "reason",
        "scan_verdict",
        "open_reports",
        "created_at",
    ]
    list_display_links = ["thumb", "id"]
    list_filter = ["moderation_state", ScanVerdictFilter, "format"]
    search_fields = ["id", "owner__email", "generation__id", "generation__prompt"]
    list_select_related = ["owner", "generation", "scan"]
    date_hierarchy = "created_at"
    actions = ["approve", "reject", "use_as_style_example", "use_as_style_lora_example"]
    inlines = [ImageDecisionInline, ImageReportInline]
    readonly_fields = [
        "id",
        "preview",
        "owner_link",
        "generation_link",
        "prompt",
        "moderation_state",
        "moderation_reason",
        "moderated_at",
        "reason",
        "scan_verdict",
        "scan_reason",
        "scan_scores",
        "scan_flagged",
        "width",
        "height",
        "format",
        "size_bytes",
        "seed",
        "is_favourite",
        "created_at",
    ]
    fieldsets = (
        (None, {"fields": ("id", "preview", "owner_link", "generation_link", "prompt")}),
        (
            "Moderation",
            {"fields": ("moderation_state", "moderation_reason", "moderated_at", "reason")},
        ),
        ("Safety scan", {"fields": ("scan_verdict", "scan_reason", "scan_scores", "scan_flagged")}),
        (
            "Picture",
            {"fields": (("width", "height", "format"), "size_bytes", "seed", "is_favourite")},
        ),
        ("Dates", {"fields": ("created_at",)}),
    )

    def get_queryset(self, request):
        open_reports = Count("reports", filter=Q(reports__status=ImageReport.Status.OPEN))
        return super().get_queryset(request).annotate(open_reports_count=open_reports)

    def has_moderate_permission(self, request):
        return user_is_moderator(user=request.user)

    # Pictures, for staff who may view images (the owner's views are a 404 to anyone else).

    def get_urls(self):
        def picture(variant):
            return path(
                f"<uuid:image_id>/{variant}/",
                self.admin_site.admin_view(self.picture_view),
                {"variant": variant},
                name=f"gallery_generatedimage_{variant}",
            )

        return [picture("thumbnail"), picture("file"), *super().get_urls()]

    def picture_view(self, request, image_id, variant):
        if not self.has_view_permission(request):
            raise PermissionDenied
        image = get_object_or_404(GeneratedImage, pk=image_id)
        return image_file_response(image, variant=variant)

    @admin.display(description="Picture")
    def thumb(self, obj):
        return _thumbnail(obj, size=64)

    @admin.display(description="Picture")
    def preview(self, obj):
        url = reverse("admin:gallery_generatedimage_file", args=[obj.pk])
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" '
            'style="max-width:100%;max-height:640px"></a>',
            url,
            url,
        )

    @admin.display(description="Owner", ordering="owner__email")
    def owner_link(self, obj):
        return _change_link(obj.owner, obj.owner.email)

    @admin.display(description="Generation")
    def generation_link(self, obj):
        return _change_link(obj.generation)

    @admin.display(description="Prompt")
    def prompt(self, obj):
        return obj.generation.prompt

    @admin.display(description="Reason")
    def reason(self, obj):
        """Why it was rejected (as its owner reads it), or why it waits for a moderator."""
        if obj.moderation_state == Moderation.REJECTED:
            return obj.moderation_reason
        if obj.moderation_state == Moderation.HELD or getattr(obj, "open_reports_count", 0):
            return services.review_reason(obj)
        return ""

    def _scan(self, obj):
        return getattr(obj, "scan", None)

    @admin.display(description="Scan", ordering="scan__verdict")
    def scan_verdict(self, obj):
        scan = self._scan(obj)
        return scan.get_verdict_display() if scan else "Not scanned"

    @admin.display(description="Scan reason")
    def scan_reason(self, obj):
        scan = self._scan(obj)
        return (scan.reason or "-") if scan else "-"

    @admin.display(description="Scores")
    def scan_scores(self, obj):
        scan = self._scan(obj)
        if not scan or not scan.scores:
            return "-"
        return ", ".join(f"{name}: {score}" for name, score in sorted(scan.scores.items()))

    @admin.display(description="Flagged")
    def scan_flagged(self, obj):
        scan = self._scan(obj)
        return ", ".join(map(str, scan.flagged)) if scan and scan.flagged else "-"

    @admin.display(description="Open reports", ordering="open_reports_count")
    def open_reports(self, obj):
        return obj.open_reports_count

    # Decisions: through the service, with a reason (the owner reads a rejection's).

    @admin.action(description="Approve the selected images", permissions=["moderate"])
    def approve(self, request, queryset):
        return self._decide(request, queryset, decision=ImageDecision.Decision.APPROVED)

    @admin.action(description="Reject the selected images", permissions=["moderate"])
    def reject(self, request, queryset):
        return self._decide(request, queryset, decision=ImageDecision.Decision.REJECTED)

    @admin.action(description="Use as example of its style", permissions=["change_preset"])
    def use_as_style_example(self, request, queryset):
        """Copy approved pictures made with a style pack into the catalogue as its examples."""
        self._copy_examples(request, queryset, services.style_preset_example_from_image)

    @admin.action(description="Use as example of its style LoRA", permissions=["change_style_lora"])
    def use_as_style_lora_example(self, request, queryset):
        self._copy_examples(request, queryset, services.style_lora_example_from_image)

    def _copy_examples(self, request, queryset, copy):
        made, refused = 0, []
        for image in queryset.select_related("generation", "owner"):
            try:
                copy(image=image, by=request.user)
            except Conflict as error:
                refused.append(f"{image.pk}: {error.message}")
            else:
                made += 1
        if made:
            self.message_user(request, f"{made} example(s) added.", messages.SUCCESS)
        for line in refused:
            self.message_user(request, line, messages.WARNING)

    def has_change_preset_permission(self, request):
        return request.user.has_perm("gallery.change_stylepreset")

    def has_change_style_lora_permission(self, request):
        return request.user.has_perm("gallery.change_stylelora")

    def _decide(self, request, queryset, *, decision):
        images = list(queryset.select_related("owner"))
        rejecting = decision == ImageDecision.Decision.REJECTED
        reason, page = ask_reason(
            self,
            request,
            objects=images,
            action="reject" if rejecting else "approve",
            title="Reject images" if rejecting else "Approve images",
            intro=(
                "Rejected pictures are hidden for good, their owners read the reason, and each "
                "counts a strike against its owner."
                if rejecting
                else "Approved pictures are shown to their owners and on their share links."
            ),
            submit="Reject" if rejecting else "Approve",
            initial=REJECTED_DEFAULT if rejecting else "Checked: within the content rules.",
            help_text=(
                "Shown to the owner and kept in the audit trail with your name."
                if rejecting
                else "Kept in the audit trail with your name."
            ),
            items=[
                format_html("{} {} ({})", _thumbnail(image, size=48), image.pk, image.owner.email)
                for image in images
            ],
        )
        if page is not None:
            return page
        decided, pending = 0, 0
        for image in images:
            try:
                services.image_decide(
                    moderator=request.user, image=image, decision=decision, reason=reason
                )
            except Conflict:  # not scanned yet: decided once the scan has run
                pending += 1
            else:
                decided += 1
        self.message_user(request, f"{decided} image(s) {decision}.", messages.SUCCESS)
        if pending:
            self.message_user(
                request,
                f"{pending} image(s) not scanned yet were left as they are.",
                messages.WARNING,
            )
        return None


@admin.register(ImageDecision)
class ImageDecisionAdmin(_Record):
    list_display = ["created_at", "image_link", "decision", "moderator", "reason"]
    list_filter = ["decision"]
    search_fields = ["image__id", "moderator__email", "image__owner__email", "reason"]
    list_select_related = ["moderator", "image"]
    date_hierarchy = "created_at"

    @admin.display(description="Image")
    def image_link(self, obj):
        return _change_link(obj.image, obj.image_id)


@admin.register(ImageReport)
class ImageReportAdmin(_Record):
    list_display = ["created_at", "image_link", "status", "reporter", "reason", "closed_at"]
    list_filter = ["status"]
    search_fields = ["image__id", "reporter__email", "image__owner__email", "reason"]
    list_select_related = ["reporter", "image"]
    date_hierarchy = "created_at"

    @admin.display(description="Image")
    def image_link(self, obj):
        return _change_link(obj.image, obj.image_id)
