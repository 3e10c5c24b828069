import secrets

from django.db import transaction

from .models import User


@transaction.atomic
def embedded_admin_ensure(*, email: str) -> tuple[User, str | None]:
    """Make sure an administrator exists; return it and, only when just created, its password.

    The password is random and shown once: the embedded mode never ships a known credential.
    """
    existing = User.objects.filter(is_superuser=True).order_by("id").first()
    if existing is not None:
        return existing, None
    password = secrets.token_urlsafe(12)
    admin = User.objects.create_superuser(email=email, password=password, display_name="Admin")
    return admin, password
