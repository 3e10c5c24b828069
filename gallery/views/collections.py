"""Collections: the list (and creating one), a collection's page with its images (and renaming
it), and deleting one. Sharing a collection is in sharing.py."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.exceptions import DomainError
from core.forms import form_error_add

from .. import selectors, services
from ..forms import BulkForm, CollectionForm, ShareForm
from .grid import grid_render


@login_required
@never_cache
def collections(request):
    form = CollectionForm()
    if request.method == "POST":
        form = CollectionForm(request.POST)
        if form.is_valid():
            try:
                collection = services.collection_create(user=request.user, **form.cleaned_data)
            except DomainError as error:
                form_error_add(form, error)
            else:
                messages.success(request, f"Collection “{collection.name}” created.")
                return redirect("gallery:collection", collection_id=collection.id)
    return render(
        request,
        "gallery/collections.html",
        {"form": form, "collections": selectors.collection_list(user=request.user)},
    )


@login_required
@never_cache
def collection_detail(request, collection_id):
    user = request.user
    collection = selectors.collection_get(user=user, collection_id=collection_id)
    form = CollectionForm(initial={"name": collection.name, "description": collection.description})
    if request.method == "POST":
        form = CollectionForm(request.POST)
        if form.is_valid():
            try:
                services.collection_update(collection=collection, **form.cleaned_data)
            except DomainError as error:
                form_error_add(form, error)
            else:
                messages.success(request, "Saved.")
                return redirect("gallery:collection", collection_id=collection.id)
    images = selectors.image_list(
        user=user, filters=selectors.ImageFilters(collection=collection.id)
    )
    return grid_render(
        request,
        images,
        template="gallery/collection_detail.html",
        extra={
            "collection": collection,
            "form": form,
            "collections": list(selectors.collection_list(user=user)),
            "share_form": ShareForm(),
            "bulk_form": BulkForm(),
        },
    )


@login_required
@require_POST
def collection_delete(request, collection_id):
    collection = selectors.collection_get(user=request.user, collection_id=collection_id)
    services.collection_delete(collection=collection)
    messages.success(request, f"Collection “{collection.name}” deleted; its images stay.")
    return redirect("gallery:collections")
