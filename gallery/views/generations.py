"""Generating: the generate page (with settings recalled from an earlier generation or a style
preset), a generation's page and its live status, cancelling, and the pictures it started from."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError, NotFound
from core.forms import form_error_add

from .. import selectors, services
from ..catalogue_selectors import style_pack_cards_for
from ..forms import GenerationForm
from ..media import file_response
from ..models import Generation

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
    except NotFound:
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
            initial = {"lora_model": _model_asked(request, models).pk}
        form = GenerationForm(initial=initial, user=user)
    recent = selectors.generation_list(user=user)[:8]
    return render(
        request,
        "gallery/generate.html",
        {
            "form": form,
            "models": models,
            "presets": style_pack_cards_for(user=user),
            "recent": recent,
            "credits_dev": settings.GENERATION_CREDITS_PER_IMAGE_DEV,
            "credits_schnell": settings.GENERATION_CREDITS_PER_IMAGE_SCHNELL,
            "basic_fields": _BASIC_FIELDS,
            "advanced_fields": _ADVANCED_FIELDS,
        },
    )


def _model_asked(request, models):
    """The model `?model=` names among the user's ready ones (a "Create pictures" link), else
    the first: an id that is not theirs is ignored, never shown."""
    wanted = request.GET.get("model")
    return next((model for model in models if str(model.pk) == wanted), models[0])


def _preset_initial(request, models) -> dict:
    try:
        preset = selectors.style_preset_get(preset_id=request.GET["preset"])
    except NotFound:
        return {}
    model = _model_asked(request, models) if models else None
    initial = {
        "style_preset": preset.pk,
        "prompt": preset.prompt_for(model.trigger_word if model else "a person"),
        "lora_model": model.pk if model else None,
    }
    initial.update(preset.parameters or {})  # the pack's parameters, shown to be changed
    if preset.style_lora_id and preset.style_lora.is_active:
        initial["style"] = preset.style_lora_id
    return initial


# The service's names for fields the form calls otherwise.
_SERVICE_FIELDS = {"extra_lora": "style"}


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
            user=request.user, lora_model=data.get("lora_model"), asked=generation_request
        )
    except DomainError as error:  # InvalidInput: several fields at once
        form_error_add(form, error, field_names=_SERVICE_FIELDS)
    return None


def _batch_context(user, generation_id) -> dict:
    generation = selectors.generation_get(user=user, generation_id=generation_id)
    batch = selectors.generation_batch(generation=generation)
    images = selectors.generation_images_listed(user=user, generations=batch)
    rows = [
        {"generation": item, "images": selectors.images_best_first(images[item.id])}
        for item in batch
    ]
    every_image = [image for item in batch for image in images[item.id]]
    return {
        "generation": generation,
        "rows": rows,
        # Of several pictures, the one that looks most like its owner, shown first.
        "best_image": selectors.image_best_likeness(every_image) if len(every_image) > 1 else None,
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
        raise NotFound("No such input.")
    return file_response(name=stored.name, media_type="image/png")
