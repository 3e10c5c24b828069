"""A pack's example made on request: one picture in the pack's style from the person's own model,
so that a pack nobody has shown them yet can be seen on them before they use it.

It is an ordinary generation (`generation_create`, as the starter pack makes them): moderated,
charged, refunded when it fails. Once its picture is approved it is the person's own best picture
in that style, which is what the generate page shows as the pack's example; nothing else is
stored, and nobody else ever sees it."""

from __future__ import annotations

from django.db import transaction

from accounts.quotas import user_row_lock
from core.exceptions import Conflict

from ..catalogue_selectors import style_example_under_way
from ..models import Generation, StylePreset
from ..selectors import lora_models_ready
from .generations import GenerationRequest, generation_create

NO_MODEL_MESSAGE = (
    "You have no trained model yet. Train one, then come back to see this pack on you."
)


def style_example_make(*, user, preset: StylePreset, lora_model=None) -> Generation:
    """Start one picture in `preset`'s style from `lora_model` (the person's choice, already
    known to be theirs) or else their most recently trained model.

    Conflict when they have no ready model; whatever `generation_create` refuses (credits short,
    a quota, a suspension) is raised as it is, before anything is charged."""
    if lora_model is None:  # the most recently trained
        lora_model = (
            lora_models_ready(user=user)
            .order_by("-current_version__created_at", "-created_at")
            .first()
        )
    if lora_model is None:
        raise Conflict(NO_MODEL_MESSAGE)
    # One picture whatever the pack's parameters say: an example, not a batch.
    asked = GenerationRequest(
        style_preset=preset, parameters={"num_outputs": 1}, source=Generation.Source.WEB
    )
    with transaction.atomic():
        # The person's row lock (which the credit reservation takes anyway) makes the check
        # and the creation one step: a double click pays for one example, not two.
        user_row_lock(user=user)
        if style_example_under_way(user=user, preset=preset):
            raise Conflict(f"Your example of {preset.name} is already on its way.")
        return generation_create(user=user, lora_model=lora_model, asked=asked)[0]
