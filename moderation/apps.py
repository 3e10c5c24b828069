from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self):
        from accounts.deletion import register_eraser
        from accounts.exports import register_exporter

        from . import account_hooks, signals  # noqa: F401 (signals: rule changes bump the version)

        register_eraser(account_hooks.erase_moderation_data, name="moderation")
        register_exporter(account_hooks.export_prompt_blocks, name="moderation")
