"""Serving private gallery files, never by a public URL (core.files does the serving).

The caller has checked who may see the file (selectors.image_for_viewer). Names are random and
files never change, so the viewer's browser may keep them for CACHE_SECONDS. On S3, list
responses and pages carry presigned URLs directly, so a grid loads without a redirect per picture.
"""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse

from core.exceptions import NotFound
from core.files import presigned_url, private_file_response, storage_is_local

from .imaging import thumbnail_small, thumbnail_small_name
from .models import GeneratedImage

CACHE_SECONDS = 300
VARIANTS = ("thumbnail", "thumbnail_small", "file", "download")


def file_response(*, name: str, media_type: str | None = None):
    """A stored gallery picture that is not an output (a generation's input, a catalogue
    example), for a viewer the caller has checked."""
    return private_file_response(name=name, media_type=media_type, cache_seconds=CACHE_SECONDS)


def image_file_response(image: GeneratedImage, *, variant: str, variants=VARIANTS):
    """The thumbnail, the picture, or the picture as a download (`variant`), among `variants`."""
    if variant not in variants:
        raise NotFound("No such file.")
    if variant == "thumbnail":
        return file_response(name=image.thumbnail.name, media_type="image/webp")
    if variant == "thumbnail_small":
        return file_response(name=thumbnail_small_stored(image), media_type="image/webp")
    return private_file_response(
        name=image.file.name,
        media_type=image.media_type,
        filename=image.download_filename,
        attachment=variant == "download",
        cache_seconds=CACHE_SECONDS,
    )


def thumbnail_small_stored(image: GeneratedImage) -> str:
    """The name of the image's small thumbnail, made from its thumbnail on first request and kept
    in storage next to it (image deletion removes it with the thumbnail)."""
    name = thumbnail_small_name(image.thumbnail.name)
    if not default_storage.exists(name):
        with default_storage.open(image.thumbnail.name, "rb") as thumbnail:
            small = thumbnail_small(thumbnail.read())
        # Two first requests at once: the loser's copy may land under a spare name; both serve
        # the same bytes, and the name asked for is the one kept.
        if not default_storage.exists(name):
            default_storage.save(name, ContentFile(small))
    return name


def media_url(*, name: str, view_url: str, request=None) -> str:
    """The URL a client loads a file from: presigned on S3, else our checking view (absolute
    when `request` is given)."""
    if not storage_is_local():
        return presigned_url(name)
    return request.build_absolute_uri(view_url) if request is not None else view_url


def zip_response(handle) -> FileResponse:
    """A zip the services built (services.images_zip_build), as a private download."""
    response = FileResponse(
        handle, as_attachment=True, filename="avatars-images.zip", content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    return response
