"""Serving a private stored file to the user it belongs to (the caller has checked that)."""

from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponseRedirect


def storage_is_local(storage=None) -> bool:
    return isinstance(storage or default_storage, FileSystemStorage)


def stored_file_response(*, name: str, filename: str | None = None, attachment: bool = False):
    """Local storage: stream the file. S3: redirect to a presigned URL that expires soon."""
    if not storage_is_local():
        params = {}
        if attachment and filename:
            params["ResponseContentDisposition"] = f'attachment; filename="{filename}"'
        try:
            url = default_storage.url(name, parameters=params or None)
        except TypeError:  # a storage without presigning parameters
            url = default_storage.url(name)
        response = HttpResponseRedirect(url)
    else:
        response = FileResponse(
            default_storage.open(name, "rb"), as_attachment=attachment, filename=filename
        )
    response["Cache-Control"] = "private, no-store"
    return response
