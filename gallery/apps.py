from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self):
        from accounts.deletion import register_eraser
        from accounts.exports import register_exporter
        from accounts.quotas import register_usage_counter

        from . import account_hooks, services  # noqa: F401 (services: registers the job kind)

        register_usage_counter("generations_per_day", account_hooks.count_generated_images)
        register_usage_counter("storage_bytes", account_hooks.gallery_storage_bytes)
        register_eraser(account_hooks.erase_gallery_data, name="gallery")
        register_exporter(account_hooks.export_gallery, name="gallery")
