from django.apps import AppConfig


class LikenessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "likeness"
    verbose_name = "Likeness"

    def ready(self):
        from . import signals  # noqa: F401 (connects the receivers)
