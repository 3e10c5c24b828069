from django.apps import AppConfig


class TrainingsConfig(AppConfig):
    name = "trainings"
    verbose_name = "Trainings"

    def ready(self):
        from accounts.deletion import register_eraser
        from accounts.exports import register_exporter
        from accounts.quotas import register_usage_counter

        from . import account_hooks, tasks  # noqa: F401 (tasks: registered with Celery)
        from .services.datasets import dataset_storage_bytes

        register_usage_counter("models", account_hooks.count_models)
        register_usage_counter("trainings_per_month", account_hooks.count_trainings)
        register_usage_counter("storage_bytes", dataset_storage_bytes)
        register_eraser(account_hooks.erase_trainings_data, name="trainings")
        register_exporter(account_hooks.export_trainings, name="trainings")
