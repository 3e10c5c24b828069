"""The catalogue's example pictures (style packs and style LoRAs), made by admins and shown
to every signed-in person; a pack's example made on request from the person's own model; and a
model's starter pack (the pictures made in the starter styles when its training succeeded)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core.exceptions import DomainError, NotFound
from trainings.selectors import lora_model_get

from .. import selectors, services
from ..media import file_response


@login_required
@require_GET
def catalogue_image(request, kind, pk):
    """Example pictures of the catalogue (admin-made, shown to every signed-in person)."""
    if kind == "example":
        stored = selectors.style_preset_example_get(example_id=pk).image
    elif kind == "style":
        stored = selectors.style_lora_get(style_id=pk).example_image
    else:
        raise NotFound("Unknown.")
    if not stored:
        raise NotFound("No picture.")
    extension = stored.name.rsplit(".", 1)[-1].lower()
    media_type = {"png": "image/png", "webp": "image/webp"}.get(extension, "image/jpeg")
    return file_response(name=stored.name, media_type=media_type)


@login_required
@require_POST
def style_example_make(request):
    """Make one picture in a pack's style from the person's model (the one chosen on the generate
    page, else their newest), charged as usual; once approved it is the pack's example for them.
    A model of someone else is a 404; a refusal (no model, credits short) is said in plain words
    on the generate page, with nothing made or charged."""
    preset = selectors.style_preset_get(preset_id=request.POST.get("preset"))
    model_id = request.POST.get("model")
    lora_model = lora_model_get(user=request.user, model_id=model_id) if model_id else None
    try:
        generation = services.style_example_make(
            user=request.user, preset=preset, lora_model=lora_model
        )
    except DomainError as error:
        messages.error(request, f"No example of {preset.name} was made: {error.message}")
        back = reverse("gallery:generate")
        return redirect(f"{back}?{urlencode({'model': model_id})}" if model_id else back)
    messages.success(
        request,
        f"Your example of {preset.name} is on its way. Once it is made and checked, the pack "
        "shows it.",
    )
    return redirect("gallery:generation", generation_id=generation.id)


@login_required
@never_cache
@require_GET
def starter_pack(request, model_id):
    """The starter pack of one of the person's models, polled by the model page while it is
    being made (another person's model is a 404)."""
    model = lora_model_get(user=request.user, model_id=model_id)
    context = {
        "model": model,
        "starter_pack": selectors.starter_pack_for_model(user=request.user, model=model),
    }
    return render(request, "gallery/_starter_pack.html", context)
