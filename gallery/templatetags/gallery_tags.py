"""Template helpers of the gallery pages."""

from django import template
from django.urls import reverse

from accounts.storage import storage_is_local

from ..media import presigned_url

register = template.Library()


@register.simple_tag
def image_src(image, variant="thumbnail"):
    """Where a page loads an image from: presigned on S3 (no redirect), else the checking view."""
    if not storage_is_local():
        return presigned_url(image.thumbnail.name if variant == "thumbnail" else image.file.name)
    return reverse("gallery:image_file", args=[image.id, variant])


@register.filter
def parameter_label(name: str) -> str:
    return name.replace("_", " ").capitalize()
