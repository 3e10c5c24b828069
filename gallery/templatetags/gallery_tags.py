"""Template helpers of the gallery pages."""

from django import template
from django.urls import reverse

from core.labels import param_label

from ..imaging import THUMBNAIL_LONG_SIDE, THUMBNAIL_SMALL_LONG_SIDE
from ..media import media_url
from ..selectors import Viewer, image_viewable

register = template.Library()


@register.simple_tag(takes_context=True)
def image_src(context, image, variant="thumbnail"):
    """Where a page loads an image from (presigned on S3, no redirect; else the checking view),
    or "" when the person looking may not see it (`{% image_src image as src %}`)."""
    if not image_viewable(viewer=Viewer.of(context["request"].user), image=image):
        return ""
    view_url = reverse("gallery:image_file", args=[image.id, variant])
    if variant == "thumbnail_small":
        # Made on first request by the checking view (gallery.media), so never presigned: on S3
        # it may not exist yet; the view makes it, then redirects to it.
        return view_url
    name = image.thumbnail.name if variant == "thumbnail" else image.file.name
    return media_url(name=name, view_url=view_url)


@register.simple_tag
def thumbnail_srcset(image, small_src: str, src: str) -> str:
    """The `srcset` of a grid cell: both thumbnails, described by their short side, since the
    square cell is covered by it (`object-fit: cover`)."""
    short, long = sorted((image.width or 1, image.height or 1))
    return ", ".join(
        f"{url} {max(1, round(short * min(1, side / long)))}w"
        for url, side in ((small_src, THUMBNAIL_SMALL_LONG_SIDE), (src, THUMBNAIL_LONG_SIDE))
    )


@register.filter
def parameter_label(name: str) -> str:
    return param_label(name)
