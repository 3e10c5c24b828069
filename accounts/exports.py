"""Data export: a zip of what a user owns with JSON of its metadata, built in the background.

Apps add their part by registering an exporter, once, in AppConfig.ready():

    from accounts.exports import register_exporter

    def export_gallery(*, user, archive):
        rows = []
        for image in GeneratedImage.objects.filter(owner=user):
            archive.add_storage_file(f"gallery/{image.id}.{image.format}", image.file.name)
            rows.append({"id": str(image.id), "seed": image.seed, ...})
        archive.add_json("gallery/images.json", rows)

    register_exporter(export_gallery, name="gallery")

The zip is saved to default_storage under `exports/<user id>/` and can be downloaded by its
owner until it expires (DATA_EXPORT_TTL_HOURS).
"""

from __future__ import annotations

import json
import logging
import tempfile
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from core.broker import enqueues_work
from events import payloads as event_data
from events.services import event_publish

from .models import DataExport, User
from .selectors import (
    credit_balance,
    credit_history,
    data_export_open,
    plan_for_user,
)

logger = logging.getLogger(__name__)

Exporter = Callable[..., None]
_exporters: dict[str, Exporter] = {}


def register_exporter(exporter: Exporter, *, name: str | None = None) -> None:
    """Add `exporter(*, user, archive)` to what a data export contains. Twice is a no-op."""
    key = name or f"{exporter.__module__}.{exporter.__qualname__}"
    _exporters[key] = exporter


class ExportArchive:
    """The zip being written; exporters add JSON documents and stored files to it."""

    def __init__(self, zip_file: zipfile.ZipFile):
        self._zip = zip_file
        self.names: list[str] = []

    def _name(self, name: str) -> str:
        name = name.lstrip("/")
        if ".." in name.split("/") or not name:
            raise ValueError(f"Bad name in export: {name!r}")
        if name in self.names:
            raise ValueError(f"{name!r} is already in the export.")
        self.names.append(name)
        return name

    def add_json(self, name: str, data: Any) -> None:
        payload = json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False)
        self._zip.writestr(self._name(name), payload, compress_type=zipfile.ZIP_DEFLATED)

    def add_bytes(self, name: str, data: bytes) -> None:
        self._zip.writestr(self._name(name), data, compress_type=zipfile.ZIP_DEFLATED)

    def add_storage_file(self, name: str, storage_name: str) -> None:
        """Copy a file of default_storage into the zip, streamed (images are stored as is)."""
        info = zipfile.ZipInfo(self._name(name), date_time=timezone.now().timetuple()[:6])
        info.compress_type = zipfile.ZIP_STORED
        with (
            default_storage.open(storage_name, "rb") as source,
            self._zip.open(info, "w", force_zip64=True) as target,
        ):
            while chunk := source.read(1024 * 1024):
                target.write(chunk)


def _export_account(*, user: User, archive: ExportArchive) -> None:
    plan = plan_for_user(user=user)
    archive.add_json(
        "profile.json",
        {
            "id": user.pk,
            "email": user.email,
            "display_name": user.display_name,
            "date_joined": user.date_joined,
            "last_login": user.last_login,
            "plan": plan.name,
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary}
                for a in EmailAddress.objects.filter(user=user)
            ],
        },
    )
    if user.avatar:
        archive.add_storage_file("avatar.webp", user.avatar.name)
    archive.add_json(
        "credits.json",
        {
            "balance": credit_balance(user=user),
            "entries": [
                {
                    "kind": entry.kind,
                    "amount": entry.amount,
                    "reason": entry.reason,
                    "reference": entry.reference,
                    "created_at": entry.created_at,
                }
                for entry in credit_history(user=user)
            ],
        },
    )


@enqueues_work
def data_export_request(*, user: User) -> DataExport:
    """Ask for an export; while one is being prepared, that one is returned."""
    from .tasks import data_export_build_task  # the tasks module imports this one

    data_export_prune(user=user)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
        export = data_export_open(user=user)
        if export is not None:
            return export
        export = DataExport.objects.create(user=user)
        data_export_build_task.delay_on_commit(str(export.id))
    return export


def data_export_build(*, export_id) -> DataExport | None:
    """Write the zip and mark the export ready. Safe to run again (a retry starts over)."""
    claimed = DataExport.objects.filter(
        id=export_id, status__in=[DataExport.Status.PENDING, DataExport.Status.BUILDING]
    ).update(status=DataExport.Status.BUILDING)
    if not claimed:
        return None
    export = DataExport.objects.select_related("user").get(id=export_id)
    user = export.user
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", allowZip64=True) as zip_file:
            archive = ExportArchive(zip_file)
            _export_account(user=user, archive=archive)
            for name, exporter in list(_exporters.items()):
                logger.info("export %s: %s", export_id, name)
                exporter(user=user, archive=archive)
            archive.add_json(
                "README.json",
                {
                    "exported_at": timezone.now(),
                    "contents": sorted([*archive.names, "README.json"]),
                },
            )
        size = handle.tell()
        handle.seek(0)
        name = default_storage.save(f"exports/{user.public_id}/{export.id}.zip", File(handle))
    now = timezone.now()
    updated = DataExport.objects.filter(id=export_id, status=DataExport.Status.BUILDING).update(
        status=DataExport.Status.READY,
        file=name,
        size_bytes=size,
        finished_at=now,
        expires_at=now + timedelta(hours=settings.DATA_EXPORT_TTL_HOURS),
        error="",
    )
    if not updated:  # deleted meanwhile (the account went): leave no file behind
        default_storage.delete(name)
        return None
    export.refresh_from_db()
    event_publish(user=user, type="export.ready", data=event_data.data_export(export))
    return export


def data_export_fail(*, export_id, reason: str) -> None:
    DataExport.objects.filter(
        id=export_id, status__in=[DataExport.Status.PENDING, DataExport.Status.BUILDING]
    ).update(status=DataExport.Status.FAILED, error=reason[:300], finished_at=timezone.now())


def data_export_prune(*, user: User | None = None) -> int:
    """Delete expired exports (file and row), and failed ones older than a day."""
    now = timezone.now()
    expired = DataExport.objects.filter(expires_at__lte=now) | DataExport.objects.filter(
        status=DataExport.Status.FAILED, created_at__lte=now - timedelta(days=1)
    )
    if user is not None:
        expired = expired.filter(user=user)
    count = 0
    for export in expired:
        if export.file:
            export.file.delete(save=False)
        export.delete()
        count += 1
    return count
