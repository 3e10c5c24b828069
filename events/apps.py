from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "events"
    verbose_name = "Events and webhooks"

    def ready(self):
        from accounts.deletion import register_eraser
        from accounts.exports import register_exporter

        from . import account_hooks

        register_eraser(account_hooks.erase_events_data, name="events")
        register_exporter(account_hooks.export_event_endpoints, name="events")
