"""Images: the gallery grid with its filters, one image's page, its files, favourite, delete,
profile picture, its collections, and acting on several selected images at once."""

from __future__ import annotations

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError
from core.redirects import safe_next_url

from .. import downloads, selectors, services
from ..forms import BulkForm, ImageFilterForm, ShareForm
from ..media import image_file_response, zip_response
from ..viewer import back_url, image_neighbours, list_query, viewer_list, viewer_url
from .grid import grid_render
from .sharing import share_url


def _filters_from(form) -> selectors.ImageFilters:
    data = form.cleaned_data
    collection = data.get("collection")
    return selectors.ImageFilters(
        model=data.get("model") or None,
        collection=uuid.UUID(collection) if collection else None,
        favourite=True if data.get("favourite") else None,
        created_from=data.get("created_from"),
        created_to=data.get("created_to"),
        status=data.get("status") or selectors.Moderation.APPROVED,
        sort=data.get("sort") or "newest",
        looks_like_me=bool(data.get("looks_like_me")),
    )


@login_required
@never_cache
def gallery(request):
    user = request.user
    collections = list(selectors.collection_list(user=user))
    form = ImageFilterForm(
        request.GET or None,
        models=selectors.lora_models_ready(user=user),
        collections=collections,
    )
    filters = _filters_from(form) if form.is_valid() else selectors.ImageFilters()
    images = selectors.image_list(user=user, filters=filters)
    return grid_render(
        request,
        images,
        template="gallery/gallery.html",
        extra={"form": form, "collections": collections, "bulk_form": BulkForm()},
    )


def _list_filters(request, *, collections) -> selectors.ImageFilters:
    """The grid's filters the viewer was opened with (none, or invalid ones: the gallery)."""
    form = ImageFilterForm(
        request.GET or None,
        models=selectors.lora_models_ready(user=request.user),
        collections=collections,
    )
    return _filters_from(form) if form.is_valid() else selectors.ImageFilters()


@login_required
@never_cache
def image_detail(request, image_id):
    """The picture viewer: the picture large, previous / next in the list it was opened from
    (plain links; viewer.js adds the keyboard and swipes), and what can be done with it."""
    user = request.user
    image = selectors.image_get(user=user, image_id=image_id)
    collections = list(selectors.collection_list(user=user))
    in_collections = set(image.collections.values_list("id", flat=True))
    filters = _list_filters(request, collections=collections)
    neighbours = image_neighbours(images=viewer_list(user=user, filters=filters), image=image)
    query = list_query(request.GET)
    share_links = [
        {"link": link, "url": share_url(request, link)}
        for link in image.share_links.order_by("-created_at")
        if link.is_active()
    ]
    return render(
        request,
        "gallery/image_detail.html",
        {
            "image": image,
            "viewable": selectors.image_viewable(viewer=selectors.Viewer.of(user), image=image),
            "generation": image.generation,
            "parameters": sorted(
                (key, value)
                for key, value in image.generation.parameters.items()
                if key != "disable_safety_checker"
            ),
            "collections": collections,
            "in_collections": [c for c in collections if c.id in in_collections],
            "share_form": ShareForm(),
            "share_links": share_links,
            "previous_url": neighbours.previous and viewer_url(neighbours.previous, query),
            "next_url": neighbours.next and viewer_url(neighbours.next, query),
            "back_url": back_url(request.GET),
            "download_formats": (("jpeg", "JPEG"), ("png", "PNG"), ("webp", "WebP")),
        },
    )


@login_required
@require_GET
def image_file(request, image_id, variant):
    """The thumbnail, the picture, or the picture as a download: the stored original, or with
    `?format=jpeg|png|webp` converted to that format."""
    image = selectors.image_for_viewer(viewer=selectors.Viewer.of(request.user), image_id=image_id)
    requested = request.GET.get("format")
    if variant != "download" or requested is None:
        return image_file_response(image, variant=variant)
    try:
        output_format = downloads.download_format_parse(requested)
        return downloads.image_download_response(image, output_format=output_format)
    except DomainError as error:
        return HttpResponse(
            error.message, status=error.status_code, content_type="text/plain; charset=utf-8"
        )


@login_required
@require_POST
def image_favourite(request, image_id):
    image = selectors.image_get(user=request.user, image_id=image_id)
    image = services.image_favourite_set(image=image, favourite=not image.is_favourite)
    if request.headers.get("HX-Request"):
        return render(request, "gallery/_favourite_button.html", {"image": image})
    return redirect(safe_next_url(request, reverse("gallery:image", args=[image.id])))


@login_required
@require_POST
def image_delete(request, image_id):
    image = selectors.image_get(user=request.user, image_id=image_id)
    services.image_delete(image=image)
    messages.success(request, "The image is deleted.")
    return redirect("gallery:gallery")


@login_required
@require_POST
def image_avatar(request, image_id):
    viewer = selectors.Viewer.of(request.user)
    image = selectors.image_for_viewer(viewer=viewer, image_id=image_id)
    try:
        services.image_set_as_avatar(user=request.user, image=image)
        messages.success(request, "This image is now your profile picture.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("gallery:image", image_id=image.id)


@login_required
@require_POST
def image_collections(request, image_id):
    """Put the image in a collection (or a new one), or take it out of one."""
    user = request.user
    image = selectors.image_get(user=user, image_id=image_id)
    try:
        if request.POST.get("new_collection"):
            collection = services.collection_create(user=user, name=request.POST["new_collection"])
        else:
            collection = selectors.collection_get(
                user=user, collection_id=request.POST.get("collection")
            )
        if request.POST.get("remove"):
            services.collection_images_remove(collection=collection, images=[image])
            messages.success(request, f"Taken out of “{collection.name}”.")
        else:
            services.collection_images_add(collection=collection, images=[image])
            messages.success(request, f"Added to “{collection.name}”.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("gallery:image", image_id=image.id)


@login_required
@require_POST
def bulk(request):
    """Several selected images at once: zip, favourite, collections, delete."""
    form = BulkForm(request.POST)
    back = safe_next_url(request, reverse("gallery:gallery"))
    if not form.is_valid():
        messages.error(request, "Select some images and an action first.")
        return redirect(back)
    data = form.cleaned_data
    try:
        if data["action"] == "zip":
            handle = services.images_zip_build(user=request.user, image_ids=data["image_ids"])
            return zip_response(handle)
        count = services.images_bulk_apply(
            user=request.user,
            action=data["action"],
            image_ids=data["image_ids"],
            collection_id=data.get("collection"),
            from_collection_id=data.get("from_collection"),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    messages.success(request, f"Done for {count} image{'' if count == 1 else 's'}.")
    return redirect(back)
