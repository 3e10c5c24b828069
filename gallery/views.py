"""Pages of the gallery: generate, follow a generation, the gallery grid, an image, collections,
share links, and the public shared page. Thin: parse, call a service or a selector, render."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError, NotFound

from . import selectors, services
from .apis import bulk_apply, zip_response
from .forms import BulkForm, CollectionForm, GenerationForm, ImageFilterForm, ShareForm
from .media import file_response
from .models import Generation, StyleLora, StylePresetExample

# --- Generating -----------------------------------------------------------------------------

_BASIC_FIELDS = ("aspect_ratio", "width", "height", "num_outputs", "batch", "model")
_ADVANCED_FIELDS = (
    "style", "extra_lora_model", "extra_lora_scale", "num_inference_steps", "guidance_scale",
    "lora_scale", "seed", "output_format", "output_quality", "megapixels", "go_fast",
    "prompt_strength",
)  # fmt: skip


def _recall_initial(user, generation_id) -> dict:
    """The form filled with the settings of an earlier generation ("use these settings again")."""
    try:
        generation = selectors.generation_get(user=user, generation_id=generation_id)
    except (Http404, ValidationError):
        return {}
    initial = {key: value for key, value in generation.parameters.items() if key != "mask_url"}
    initial.pop("disable_safety_checker", None)
    initial.update(
        prompt=generation.prompt,
        lora_model=generation.lora_model_id,
        style=generation.style_lora_id,
        style_preset=generation.style_preset_id,
        extra_lora_model=generation.extra_lora_model_id,
        num_outputs=generation.num_outputs,
    )
    if generation.seed is not None:
        initial["seed"] = generation.seed
    return initial


@login_required
@never_cache
def generate(request):
    user = request.user
    models = selectors.lora_models_ready(user=user)
    if request.method == "POST":
        form = GenerationForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            generations = _generation_create(request, form)
            if generations:
                return redirect("gallery:generation", generation_id=generations[0].id)
    else:
        initial = {}
        if request.GET.get("from"):
            initial = _recall_initial(user, request.GET["from"])
        elif request.GET.get("preset"):
            initial = _preset_initial(request, models)
        elif models:
            initial = {"lora_model": models[0].pk}
        form = GenerationForm(initial=initial, user=user)
    recent = selectors.generation_list(user=user)[:8]
    return render(
        request,
        "gallery/generate.html",
        {
            "form": form,
            "models": models,
            "presets": selectors.style_preset_list(),
            "recent": recent,
            "credits_dev": settings.GENERATION_CREDITS_PER_IMAGE_DEV,
            "credits_schnell": settings.GENERATION_CREDITS_PER_IMAGE_SCHNELL,
            "basic_fields": _BASIC_FIELDS,
            "advanced_fields": _ADVANCED_FIELDS,
        },
    )


def _preset_initial(request, models) -> dict:
    try:
        preset = selectors.style_preset_get(preset_id=request.GET["preset"])
    except (Http404, ValidationError):
        return {}
    model = None
    wanted = request.GET.get("model")
    for candidate in models:
        if str(candidate.pk) == wanted:
            model = candidate
    model = model or (models[0] if models else None)
    initial = {
        "style_preset": preset.pk,
        "prompt": preset.prompt_for(model.trigger_word if model else "a person"),
        "lora_model": model.pk if model else None,
    }
    if preset.aspect_ratio:
        initial["aspect_ratio"] = preset.aspect_ratio
    return initial


def _generation_create(request, form) -> list[Generation] | None:
    data = form.cleaned_data
    generation_request = services.GenerationRequest(
        prompt=data.get("prompt") or "",
        parameters=form.parameters(),
        style_preset=data.get("style_preset"),
        style_lora=data.get("style"),
        extra_lora_model=data.get("extra_lora_model"),
        batch=data.get("batch") or 1,
        source=Generation.Source.WEB,
    )
    if data.get("image"):
        generation_request.image = data["image"].read()
        if data.get("mask_data"):
            generation_request.mask = data["mask_data"]
        elif data.get("mask"):
            generation_request.mask = data["mask"].read()
    elif data.get("mask") or data.get("mask_data"):
        form.add_error("mask", "A mask needs the picture it applies to.")
        return None
    try:
        return services.generation_create(
            user=request.user, lora_model=data.get("lora_model"), request=generation_request
        )
    except ValidationError as error:
        for field, messages_ in error.message_dict.items():
            target = field if field in form.fields else None
            if field == "extra_lora":
                target = "style"
            for message in messages_:
                form.add_error(target, message if target else f"{field}: {message}")
    except DomainError as error:
        target = error.field if error.field in form.fields else None
        form.add_error(target, error.message)
    return None


def _batch_context(user, generation_id) -> dict:
    generation = selectors.generation_get(user=user, generation_id=generation_id)
    batch = selectors.generation_batch(generation=generation)
    images = selectors.generation_visible_images(generations=batch)
    rows = [{"generation": item, "images": images[item.id]} for item in batch]
    return {
        "generation": generation,
        "rows": rows,
        "running": any(not item.is_terminal for item in batch),
    }


@login_required
@never_cache
def generation_detail(request, generation_id):
    context = _batch_context(request.user, generation_id)
    return render(request, "gallery/generation_detail.html", context)


@login_required
@never_cache
@require_GET
def generation_status(request, generation_id):
    """The live part of the generation page, polled by htmx while anything is running."""
    context = _batch_context(request.user, generation_id)
    return render(request, "gallery/_generation_status.html", context)


@login_required
@require_POST
def generation_cancel(request, generation_id):
    generation = selectors.generation_get(user=request.user, generation_id=generation_id)
    try:
        services.generation_cancel(generation=generation)
        messages.success(request, "The generation is canceled; your credits are refunded.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("gallery:generation", generation_id=generation.id)


@login_required
@never_cache
def generation_input(request, generation_id, kind):
    """The picture or the mask a generation started from, for its owner."""
    generation = selectors.generation_get(user=request.user, generation_id=generation_id)
    stored = generation.init_image if kind == "image" else generation.mask
    if kind not in ("image", "mask") or not stored:
        raise Http404("No such input")
    return file_response(name=stored.name, media_type="image/png")


# --- The gallery ----------------------------------------------------------------------------


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
    )


def _grid(request, images, *, template, extra=None):
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
    return _grid(
        request,
        images,
        template="gallery/gallery.html",
        extra={"form": form, "collections": collections, "bulk_form": BulkForm()},
    )


@login_required
@never_cache
def image_detail(request, image_id):
    image = selectors.image_get(user=request.user, image_id=image_id)
    collections = list(selectors.collection_list(user=request.user))
    in_collections = set(image.collections.values_list("id", flat=True))
    return render(
        request,
        "gallery/image_detail.html",
        {
            "image": image,
            "generation": image.generation,
            "parameters": sorted(
                (key, value)
                for key, value in image.generation.parameters.items()
                if key != "disable_safety_checker"
            ),
            "collections": collections,
            "in_collections": [c for c in collections if c.id in in_collections],
            "share_form": ShareForm(),
            "share_links": image.share_links.order_by("-created_at"),
        },
    )


@login_required
@require_GET
def image_file(request, image_id, variant):
    image = selectors.image_get_visible(user=request.user, image_id=image_id)
    if variant == "thumbnail":
        return file_response(name=image.thumbnail.name, media_type="image/webp")
    if variant not in ("file", "download"):
        raise Http404("No such file")
    return file_response(
        name=image.file.name,
        media_type=image.media_type,
        filename=image.download_filename,
        attachment=variant == "download",
    )


@login_required
@require_POST
def image_favourite(request, image_id):
    image = selectors.image_get(user=request.user, image_id=image_id)
    image = services.image_favourite_set(image=image, favourite=not image.is_favourite)
    if request.headers.get("HX-Request"):
        return render(request, "gallery/_favourite_button.html", {"image": image})
    return redirect(request.POST.get("next") or reverse("gallery:image", args=[image.id]))


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
    image = selectors.image_get_visible(user=request.user, image_id=image_id)
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
                user=user, collection_id=_uuid(request.POST.get("collection"))
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


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError as error:
        raise Http404("Unknown") from error


@login_required
@require_POST
def image_share(request, image_id):
    image = selectors.image_get(user=request.user, image_id=image_id)
    return _share(request, image=image, back=reverse("gallery:image", args=[image.id]))


def _share(request, *, image=None, collection=None, back):
    form = ShareForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose how many days the link lasts.")
        return redirect(back)
    try:
        link = services.share_link_create(
            user=request.user,
            image=image,
            collection=collection,
            expires_in_days=form.cleaned_data.get("expires_in_days"),
            never_expires=form.cleaned_data.get("never_expires", False),
        )
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(back)
    url = request.build_absolute_uri(
        reverse("gallery:shared", kwargs={"token": services.share_link_token(link)})
    )
    messages.success(request, f"Anyone with this link can see it: {url}")
    return redirect(back)


@login_required
@require_POST
def bulk(request):
    """Several selected images at once: zip, favourite, collections, delete."""
    form = BulkForm(request.POST)
    back = request.POST.get("next") or reverse("gallery:gallery")
    if not back.startswith("/"):
        back = reverse("gallery:gallery")
    if not form.is_valid():
        messages.error(request, "Select some images and an action first.")
        return redirect(back)
    data = form.cleaned_data
    if data["action"] == "zip":
        images = [
            image
            for image in selectors.images_of_user(user=request.user, image_ids=data["image_ids"])
            if image.is_visible
        ][: settings.GALLERY_ZIP_MAX_IMAGES]
        if not images:
            messages.error(request, "None of these images can be downloaded.")
            return redirect(back)
        return zip_response(images)
    try:
        count = bulk_apply(
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


# --- Collections and share links ------------------------------------------------------------


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
                form.add_error(error.field if error.field in form.fields else None, error.message)
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
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, "Saved.")
                return redirect("gallery:collection", collection_id=collection.id)
    images = selectors.image_list(
        user=user, filters=selectors.ImageFilters(collection=collection.id)
    )
    return _grid(
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


@login_required
@require_POST
def collection_share(request, collection_id):
    collection = selectors.collection_get(user=request.user, collection_id=collection_id)
    return _share(
        request, collection=collection, back=reverse("gallery:collection", args=[collection.id])
    )


@login_required
@never_cache
def share_links(request):
    links = [
        {"link": link, "token": services.share_link_token(link)}
        for link in selectors.share_link_list(user=request.user)
    ]
    return render(request, "gallery/share_links.html", {"links": links})


@login_required
@require_POST
def share_link_revoke(request, link_id):
    link = selectors.share_link_get(user=request.user, link_id=link_id)
    services.share_link_revoke(link=link)
    messages.success(request, "The link is revoked: it no longer opens.")
    return redirect("gallery:share_links")


# --- Public pages ---------------------------------------------------------------------------


def _link_or_404(token):
    try:
        return services.share_link_resolve(token=token)
    except NotFound as error:
        raise Http404(error.message) from error


@never_cache
@require_GET
def shared(request, token):
    link = _link_or_404(token)
    images = list(selectors.shared_images(link=link)[:200])
    if link.image_id and not images:
        raise Http404("Nothing to show")
    services.share_link_viewed(link=link)
    response = render(
        request,
        "gallery/shared.html",
        {"link": link, "token": token, "images": images, "collection": link.collection},
    )
    response["X-Robots-Tag"] = "noindex"
    return response


@never_cache
@require_GET
def shared_file(request, token, image_id, variant):
    link = _link_or_404(token)
    image = get_object_or_404(selectors.shared_images(link=link), pk=image_id)
    if variant == "thumbnail":
        return file_response(name=image.thumbnail.name, media_type="image/webp")
    if variant != "file":
        raise Http404("No such file")
    return file_response(name=image.file.name, media_type=image.media_type)


@login_required
@require_GET
def catalogue_image(request, kind, pk):
    """Example pictures of the catalogue (admin-made, shown to every signed-in person)."""
    try:
        if kind == "example":
            stored = get_object_or_404(StylePresetExample, pk=int(pk), preset__is_active=True).image
        elif kind == "style":
            stored = get_object_or_404(StyleLora, pk=_uuid(pk), is_active=True).example_image
        else:
            raise Http404("Unknown")
    except ValueError as error:
        raise Http404("Unknown") from error
    if not stored:
        raise Http404("No picture")
    extension = stored.name.rsplit(".", 1)[-1].lower()
    media_type = {"png": "image/png", "webp": "image/webp"}.get(extension, "image/jpeg")
    return file_response(name=stored.name, media_type=media_type)
