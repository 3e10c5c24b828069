"""Serving private gallery files: never by a public URL.

Local storage: the view that checked the owner streams the file with its media type.
S3: the view redirects to a presigned URL that expires soon (GALLERY_PRESIGN_EXPIRY_SECONDS);
list responses carry such URLs directly so that a grid loads without a redirect per picture.
"""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import FileResponse, HttpResponseRedirect

from accounts.storage import storage_is_local

CACHE_SECONDS = 300


def presigned_url(name: str, *, filename: str | None = None, attachment: bool = False) -> str:
    parameters = {}
    if attachment and filename:
        parameters["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
    return default_storage.url(
        name, parameters=parameters or None, expire=settings.GALLERY_PRESIGN_EXPIRY_SECONDS
    )


def file_response(
    *, name: str, media_type: str, filename: str | None = None, attachment: bool = False
):
    """The stored file `name` (the caller has checked who may see it)."""
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
    # Names are random and files never change: the owner's browser may keep them a while.
    response["Cache-Control"] = f"private, max-age={CACHE_SECONDS}"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def media_url(request, *, name: str, view_url: str) -> str:
    """The URL a client loads a file from: presigned on S3, else our checking view."""
    if not storage_is_local():
        return presigned_url(name)
    return request.build_absolute_uri(view_url)
