from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "gallery"
    verbose_name = "Gallery"

    def ready(self):
        from accounts.deletion import register_eraser
        from accounts.exports import register_exporter
        from accounts.quotas import register_usage_counter
        from core.webhooks import register_webhook_handler

        from . import account_hooks, tasks

        register_usage_counter("generations_per_day", account_hooks.count_generated_images)
        register_usage_counter("storage_bytes", account_hooks.gallery_storage_bytes)
        register_eraser(account_hooks.erase_gallery_data, name="gallery")
        register_exporter(account_hooks.export_gallery, name="gallery")
        register_webhook_handler(
            "prediction",
            lambda remote_id: tasks.generation_refresh_task.delay_on_commit(remote_id),
        )
