"""A selfie's file goes with its check, however the check is deleted: with its model (a
cascade), the account, the admin, or the sweep of selfies never used (services.selfies_expire).
"""

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from .models import IdentityCheck


@receiver(post_delete, sender=IdentityCheck, dispatch_uid="likeness.selfie_file_delete")
def selfie_file_delete(sender, instance: IdentityCheck, **kwargs) -> None:
    name = instance.selfie.name
    if name:
        # After the commit: a rolled-back deletion keeps its file.
        transaction.on_commit(lambda: default_storage.delete(name))
