"""The catalogue's example pictures (style packs and style LoRAs), made by admins and shown
to every signed-in person, and a model's starter pack (the pictures made in the starter styles
when its training succeeded)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.exceptions import NotFound
from trainings.selectors import lora_model_get

from .. import selectors
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
