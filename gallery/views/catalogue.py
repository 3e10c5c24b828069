"""The catalogue's example pictures (style presets and style LoRAs), made by admins and shown
to every signed-in person."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.views.decorators.http import require_GET

from core.exceptions import NotFound

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
