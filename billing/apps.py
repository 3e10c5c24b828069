from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from accounts.exports import register_exporter

        from . import account_hooks

        register_exporter(account_hooks.export_purchases, name="billing")
