from django.apps import AppConfig


class LikenessConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "likeness"
    verbose_name = "Likeness"
