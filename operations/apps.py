from django.apps import AppConfig


class OperationsConfig(AppConfig):
    """What the operators watch: activity, failures, credits, GPU cost and the review queue."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "operations"
    verbose_name = "Operations"
