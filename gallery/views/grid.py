"""The paged image grid shared by the gallery and a collection's page."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import render

from .. import selectors


def grid_render(request, images, *, template, extra=None):
    """One page of `images` in `template`; htmx asking for the next page gets only its items."""
    page = selectors.image_page(
        images=images, cursor=request.GET.get("cursor"), size=settings.GALLERY_PAGE_SIZE
    )
    query = request.GET.copy()
    query.pop("cursor", None)
    next_url = None
    if page.next_cursor:
        query["cursor"] = page.next_cursor
        next_url = f"{request.path}?{query.urlencode()}"
    context = {"images": page.items, "next_url": next_url, **(extra or {})}
    if request.headers.get("HX-Request") and request.GET.get("cursor"):
        return render(request, "gallery/_image_grid_items.html", context)
    return render(request, template, context)
