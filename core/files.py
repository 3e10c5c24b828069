"""Private stored files: serving one to a viewer the caller has checked, and erasing folders.

Local storage: the view streams the file. S3: the view redirects to a presigned URL that expires
soon, so no private file ever has a public address.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponseRedirect


def storage_is_local(storage=None) -> bool:
    return isinstance(storage or default_storage, FileSystemStorage)


def presigned_url(name: str, *, filename: str | None = None, attachment: bool = False) -> str:
    """A URL of `name` on S3 that expires after GALLERY_PRESIGN_EXPIRY_SECONDS."""
    parameters = {}
    if attachment and filename:
        parameters["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    try:
        return default_storage.url(
            name, parameters=parameters or None, expire=settings.GALLERY_PRESIGN_EXPIRY_SECONDS
        )
    except TypeError:  # a remote storage that cannot presign with parameters
        return default_storage.url(name)


def private_file_response(
    *,
    name: str,
    media_type: str | None = None,
    filename: str | None = None,
    attachment: bool = False,
    cache_seconds: int = 0,
):
    """The stored file `name`, for a viewer the caller has already checked.

    `cache_seconds` lets the viewer's browser keep a file whose name is random and whose
    content never changes; anything else is `no-store`.
    """
    if not storage_is_local():
        response = HttpResponseRedirect(
            presigned_url(name, filename=filename, attachment=attachment)
        )
        response["Cache-Control"] = "private, no-store"
        return response
    response = FileResponse(
        default_storage.open(name, "rb"),
        content_type=media_type,
        as_attachment=attachment,
        filename=filename or name.rsplit("/", 1)[-1],
    )
    response["Cache-Control"] = (
        f"private, max-age={cache_seconds}" if cache_seconds else "private, no-store"
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


def storage_folder_delete(prefix: str) -> int:
    """Delete every file under `prefix` in default_storage; returns how many went."""
    deleted = 0
    try:
        folders, files = default_storage.listdir(prefix)
    except (FileNotFoundError, NotADirectoryError):
        return 0
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
        deleted += 1
    for folder in folders:
        deleted += storage_folder_delete(f"{prefix}/{folder}")
    return deleted
