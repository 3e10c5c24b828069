"""Template helpers of the gallery pages."""

from django import template
from django.urls import reverse

from core.labels import param_label

from ..media import media_url
from ..selectors import Viewer, image_viewable

register = template.Library()


@register.simple_tag(takes_context=True)
def image_src(context, image, variant="thumbnail"):
    """Where a page loads an image from (presigned on S3, no redirect; else the checking view),
    or "" when the person looking may not see it (`{% image_src image as src %}`)."""
    if not image_viewable(viewer=Viewer.of(context["request"].user), image=image):
        return ""
    name = image.thumbnail.name if variant == "thumbnail" else image.file.name
    return media_url(name=name, view_url=reverse("gallery:image_file", args=[image.id, variant]))


@register.filter
def parameter_label(name: str) -> str:
    return param_label(name)
