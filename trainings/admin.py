"""Admin: datasets, photos, LoRA models, versions and training runs, read-only, for support.

Everything links to what it came from and what it made (run → dataset, model, version; model →
runs; dataset → photos) so that a failed training can be followed. Rows change only through the
services (a state machine, credits, Replicate), so nothing is added, edited or deleted here.
Moderators (staff with only `accounts.moderate_content`) see none of it: every page, and the
photo thumbnails, check the model's view permission.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from core.files import private_file_response

from .models import Dataset, DatasetImage, LoraModel, LoraVersion, TrainingRun

LOG_TAIL_LINES = 40


def _change_link(obj, label=None):
    if obj is None:
        return "-"
    opts = obj._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
    return format_html('<a href="{}">{}</a>', url, label if label is not None else obj)


def _changelist_link(model, label, **filters):
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return format_html('<a href="{}?{}">{}</a>', url, query, label)


def _owner_link(user):
    return _change_link(user, user.email) if user is not None else "-"


def _thumbnail_img(image, size=96):
    if not image.thumbnail:
        return "-"
    url = reverse("admin:trainings_datasetimage_thumbnail", args=[image.pk])
    return format_html(
        '<img src="{}" alt="{}" loading="lazy" style="max-width:{}px;max-height:{}px">',
        url,
        image.original_name,
        size,
        size,
    )


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Datasets and their photos --------------------------------------------------------------


class DatasetImageInline(_ReadOnlyInline):
    model = DatasetImage
    fields = ["preview", "original_name", "status", "rejection_message", "shot_type", "face_count"]
    readonly_fields = fields

    @admin.display(description="Photo")
    def preview(self, obj):
        return _thumbnail_img(obj)


@admin.register(Dataset)
class DatasetAdmin(_ReadOnlyAdmin):
    list_display = ["name", "owner_link", "photo_count", "target_size", "created_at"]
    list_filter = ["target_size", "created_at"]
    search_fields = ["id", "name", "owner__email", "owner__display_name"]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["owner_link", "photos", "runs"]
    fieldsets = (
        (
            None,
            {"fields": ("id", "name", "owner_link", "target_size", "caption_with_trigger_word")},
        ),
        ("Related", {"fields": ("photos", "runs")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [DatasetImageInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(photo_total=Count("images"))

    @admin.display(description="Owner", ordering="owner__email")
    def owner_link(self, obj):
        return _owner_link(obj.owner)

    @admin.display(description="Photos", ordering="photo_total")
    def photo_count(self, obj):
        return obj.photo_total

    @admin.display(description="Photos")
    def photos(self, obj):
        return _changelist_link(DatasetImage, f"{obj.images.count()} photo(s)", dataset=obj.pk)

    @admin.display(description="Training runs")
    def runs(self, obj):
        return _changelist_link(
            TrainingRun, f"{obj.training_runs.count()} run(s) with these photos", dataset=obj.pk
        )


@admin.register(DatasetImage)
class DatasetImageAdmin(_ReadOnlyAdmin):
    list_display = [
        "preview",
        "original_name",
        "dataset_link",
        "owner_link",
        "status",
        "shot_type",
        "face_count",
        "created_at",
    ]
    list_filter = ["status", "shot_type", "face_confirmed"]
    search_fields = [
        "id",
        "original_name",
        "dataset__name",
        "dataset__owner__email",
        "dataset__owner__display_name",
    ]
    list_select_related = ["dataset__owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["preview_large", "dataset_link", "owner_link"]
    fieldsets = (
        (None, {"fields": ("id", "preview_large", "original_name", "dataset_link", "owner_link")}),
        (
            "Processing",
            {"fields": ("status", "rejection_code", "rejection_message", "caption")},
        ),
        (
            "Measurements",
            {
                "fields": (
                    ("width", "height"),
                    ("original_width", "original_height", "original_format"),
                    "size_bytes",
                    ("face_count", "face_confirmed"),
                    ("blur_score", "shot_type"),
                    "perceptual_hash",
                    "measurements",
                )
            },
        ),
        ("Dates", {"fields": ("created_at",)}),
    )

    def get_urls(self):
        thumbnail = path(
            "<uuid:image_id>/thumbnail/",
            self.admin_site.admin_view(self.thumbnail_view),
            name="trainings_datasetimage_thumbnail",
        )
        return [thumbnail, *super().get_urls()]

    def thumbnail_view(self, request, image_id):
        """The photo's thumbnail for staff who may view photos (the owner's view is a 404 to
        anyone else, administrators included)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        image = get_object_or_404(DatasetImage, pk=image_id)
        if not image.thumbnail:
            raise Http404("No thumbnail")
        return private_file_response(name=image.thumbnail.name, media_type="image/webp")

    @admin.display(description="Photo")
    def preview(self, obj):
        return _thumbnail_img(obj, size=64)

    @admin.display(description="Photo")
    def preview_large(self, obj):
        return _thumbnail_img(obj, size=320)

    @admin.display(description="Dataset", ordering="dataset__name")
    def dataset_link(self, obj):
        return _change_link(obj.dataset)

    @admin.display(description="Owner", ordering="dataset__owner__email")
    def owner_link(self, obj):
        return _owner_link(obj.dataset.owner)


# --- Models and versions --------------------------------------------------------------------


class LoraVersionInline(_ReadOnlyInline):
    model = LoraVersion
    fk_name = "lora_model"
    fields = ["replicate_version_id", "run_link", "created_at"]
    readonly_fields = fields

    @admin.display(description="Training run")
    def run_link(self, obj):
        return _change_link(obj.training_run, "run") if obj.training_run_id else "-"


@admin.register(LoraModel)
class LoraModelAdmin(_ReadOnlyAdmin):
    list_display = [
        "name",
        "trigger_word",
        "owner_link",
        "status",
        "replicate_name",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = [
        "id",
        "name",
        "trigger_word",
        "replicate_name",
        "owner__email",
        "owner__display_name",
        "versions__replicate_version_id",
        "training_runs__replicate_id",
    ]
    list_select_related = ["owner"]
    date_hierarchy = "created_at"
    readonly_fields = ["owner_link", "replicate_model", "current_version_link", "runs"]
    fieldsets = (
        (None, {"fields": ("id", "name", "trigger_word", "owner_link", "status")}),
        ("Replicate", {"fields": ("replicate_model", "current_version_link")}),
        ("Related", {"fields": ("runs",)}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    inlines = [LoraVersionInline]

    @admin.display(description="Owner", ordering="owner__email")
    def owner_link(self, obj):
        return _owner_link(obj.owner)

    @admin.display(description="Replicate model")
    def replicate_model(self, obj):
        return obj.replicate_full_name or "- (not created yet: it is made by the first training)"

    @admin.display(description="Current version")
    def current_version_link(self, obj):
        return _change_link(obj.current_version)

    @admin.display(description="Training runs")
    def runs(self, obj):
        total = obj.training_runs.count()
        failed = obj.training_runs.filter(status=TrainingRun.Status.FAILED).count()
        return format_html(
            "{} · {}",
            _changelist_link(TrainingRun, f"{total} run(s)", lora_model=obj.pk),
            _changelist_link(
                TrainingRun,
                f"{failed} failed",
                lora_model=obj.pk,
                status__exact=TrainingRun.Status.FAILED,
            ),
        )


@admin.register(LoraVersion)
class LoraVersionAdmin(_ReadOnlyAdmin):
    list_display = ["replicate_version_id", "model_link", "owner_link", "run_link", "created_at"]
    search_fields = [
        "id",
        "replicate_version_id",
        "lora_model__name",
        "lora_model__trigger_word",
        "lora_model__replicate_name",
        "lora_model__owner__email",
        "training_run__replicate_id",
    ]
    list_select_related = ["lora_model__owner", "training_run"]
    date_hierarchy = "created_at"
    readonly_fields = ["model_link", "owner_link", "run_link"]
    fields = [
        "id",
        "replicate_version_id",
        "model_link",
        "owner_link",
        "run_link",
        "weights_url",
        "created_at",
    ]

    @admin.display(description="Model", ordering="lora_model__name")
    def model_link(self, obj):
        return _change_link(obj.lora_model)

    @admin.display(description="Owner", ordering="lora_model__owner__email")
    def owner_link(self, obj):
        return _owner_link(obj.lora_model.owner)

    @admin.display(description="Training run")
    def run_link(self, obj):
        return _change_link(obj.training_run, "run") if obj.training_run_id else "-"


# --- Training runs --------------------------------------------------------------------------


@admin.register(TrainingRun)
class TrainingRunAdmin(_ReadOnlyAdmin):
    list_display = [
        "id",
        "owner_link",
        "model_link",
        "status",
        "progress_percent",
        "cost_estimate",
        "cost_actual",
        "created_at",
        "completed_at",
    ]
    list_filter = ["status", "created_at"]
    search_fields = [
        "id",
        "replicate_id",
        "owner__email",
        "owner__display_name",
        "lora_model__name",
        "lora_model__trigger_word",
        "lora_model__replicate_name",
        "dataset__name",
        "error_message",
    ]
    list_select_related = ["owner", "lora_model"]
    date_hierarchy = "created_at"
    readonly_fields = [
        "owner_link",
        "model_link",
        "dataset_link",
        "version_link",
        "retry_of_link",
        "retries_links",
        "progress_percent",
        "log_tail",
    ]
    fieldsets = (
        (None, {"fields": ("id", "owner_link", "status", "error_message")}),
        (
            "Related",
            {
                "fields": (
                    "model_link",
                    "dataset_link",
                    "version_link",
                    "retry_of_link",
                    "retries_links",
                )
            },
        ),
        (
            "Progress",
            {
                "fields": (
                    "replicate_id",
                    "progress_percent",
                    ("current_step", "total_steps"),
                    "image_count",
                    "log_tail",
                )
            },
        ),
        (
            "Settings and cost",
            {"fields": ("parameters", "metrics", "cost_estimate", "cost_actual")},
        ),
        (
            "Dates",
            {
                "fields": (
                    "created_at",
                    "submitted_at",
                    "started_at",
                    "completed_at",
                    "last_event_at",
                )
            },
        ),
    )

    @admin.display(description="Owner", ordering="owner__email")
    def owner_link(self, obj):
        return _owner_link(obj.owner)

    @admin.display(description="Model", ordering="lora_model__name")
    def model_link(self, obj):
        return _change_link(obj.lora_model)

    @admin.display(description="Dataset")
    def dataset_link(self, obj):
        return _change_link(obj.dataset) if obj.dataset_id else "- (deleted)"

    @admin.display(description="Version made")
    def version_link(self, obj):
        version = LoraVersion.objects.filter(training_run=obj).first()
        return _change_link(version)

    @admin.display(description="Retry of")
    def retry_of_link(self, obj):
        return _change_link(obj.retry_of, "run") if obj.retry_of_id else "-"

    @admin.display(description="Retried as")
    def retries_links(self, obj):
        retries = list(obj.retries.order_by("created_at"))
        if not retries:
            return "-"
        return format_html_join(
            ", ",
            "{}",
            (
                (_change_link(retry, f"run of {retry.created_at:%Y-%m-%d %H:%M}"),)
                for retry in retries
            ),
        )

    @admin.display(description="Progress")
    def progress_percent(self, obj):
        return f"{obj.progress:.0%}"

    @admin.display(description=f"Logs (last {LOG_TAIL_LINES} lines)")
    def log_tail(self, obj):
        lines = obj.logs.splitlines()[-LOG_TAIL_LINES:]
        if not lines:
            return "-"
        return format_html(
            '<pre style="white-space:pre-wrap;max-height:30em;overflow:auto">{}</pre>',
            "\n".join(lines),
        )
