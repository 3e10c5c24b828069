"""Admin: the catalogue (style presets with example pictures, style LoRAs) is edited here;
generations and images are shown read-only for support (moderation gets its own pages)."""

from django.contrib import admin

from .models import (
    Collection,
    GeneratedImage,
    Generation,
    ShareLink,
    StyleLora,
    StylePreset,
    StylePresetExample,
)


class StylePresetExampleInline(admin.TabularInline):
    model = StylePresetExample
    extra = 1


@admin.register(StylePreset)
class StylePresetAdmin(admin.ModelAdmin):
    list_display = ["name", "is_active", "position", "aspect_ratio"]
    list_editable = ["is_active", "position"]
    search_fields = ["name", "prompt_template"]
    inlines = [StylePresetExampleInline]


@admin.register(StyleLora)
class StyleLoraAdmin(admin.ModelAdmin):
    list_display = ["name", "extra_lora", "default_scale", "is_active", "position"]
    list_editable = ["is_active", "position"]
    search_fields = ["name", "extra_lora"]


class _ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
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


@admin.register(GeneratedImage)
class GeneratedImageAdmin(_ReadOnly):
    list_display = ["id", "owner", "format", "width", "height", "moderation_state", "created_at"]
    list_filter = ["moderation_state", "format"]
    search_fields = ["id", "owner__email", "generation__id"]
    list_select_related = ["owner"]
    exclude = ["placeholder"]


@admin.register(Collection)
class CollectionAdmin(_ReadOnly):
    list_display = ["name", "owner", "created_at"]
    search_fields = ["name", "owner__email"]
    list_select_related = ["owner"]


@admin.register(ShareLink)
class ShareLinkAdmin(_ReadOnly):
    list_display = ["id", "owner", "image", "collection", "expires_at", "revoked_at", "view_count"]
    list_select_related = ["owner"]
