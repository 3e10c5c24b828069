"""The starter pack: when a person's training succeeds, one picture in each starter style is
made with the new model, so that the model page shows what it can do.

Each picture is an ordinary generation (`generation_create`): moderated, charged, refunded when
it fails. A pack is made once per model: `starter_pack_request` creates its row (the model is
the primary key) in the transaction that applies the success, and only the call that created it
enqueues the task; the task locks the row and skips the styles already done, so running it
twice makes nothing twice. What the balance does not cover is skipped, with the reason kept.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.exceptions import DomainError

from ..models import Generation, StarterPack, StarterPackItem, StylePreset
from ..tasks import starter_pack_make_task
from .generations import GenerationRequest, generation_create

logger = logging.getLogger(__name__)


def starter_pack_request(*, lora_model) -> StarterPack | None:
    """Mark the model's pack as wanted and enqueue its making once the success has committed.

    Called by the training's success, inside its transaction: a second success of the same
    model (a duplicate webhook, a retrain) finds the row and enqueues nothing."""
    if not settings.STARTER_PACK_ENABLED:
        return None
    pack, created = StarterPack.objects.get_or_create(
        lora_model=lora_model, defaults={"owner_id": lora_model.owner_id}
    )
    if created:
        starter_pack_make_task.delay_on_commit(str(lora_model.pk))
    return pack


def starter_packs_resume(*, older_than) -> int:
    """Enqueue again the packs requested before `older_than` and never made: their task was
    lost (the broker was down when the training succeeded, or a worker died). Making a pack
    twice is harmless, so a pack whose task is merely slow costs one extra no-op run."""
    stale = list(
        StarterPack.objects.filter(finished_at__isnull=True, requested_at__lt=older_than)
        .values_list("pk", flat=True)
        .order_by("requested_at")[:500]
    )
    for lora_model_id in stale:
        starter_pack_make_task.delay(str(lora_model_id))
    return len(stale)


def starter_styles():
    return StylePreset.objects.filter(is_active=True, in_starter_pack=True).select_related(
        "style_lora"
    )


def starter_pack_make(*, lora_model_id) -> StarterPack | None:
    """Start one generation per starter style not done yet; a style the balance (or a quota,
    or moderation) does not allow is recorded as skipped with the reason."""
    with transaction.atomic():
        pack = (
            StarterPack.objects.select_for_update()
            .select_related("lora_model", "owner")
            .filter(pk=lora_model_id)
            .first()
        )
        if pack is None or pack.finished_at is not None:
            return pack
        model = pack.lora_model
        done = set(pack.items.values_list("preset_id", flat=True))
        made = 0
        if settings.STARTER_PACK_ENABLED and model.is_ready:
            for preset in starter_styles().exclude(pk__in=done):
                item = StarterPackItem(
                    pack=pack, preset=preset, style_name=preset.name, position=preset.position
                )
                asked = GenerationRequest(style_preset=preset, source=Generation.Source.WEB)
                try:
                    item.generation = generation_create(
                        user=pack.owner, lora_model=model, asked=asked
                    )[0]
                    made += 1
                except DomainError as error:  # insufficient credits, a quota, a suspension
                    item.skipped_reason = error.message[:300]
                item.save()
        pack.finished_at = timezone.now()
        pack.save(update_fields=["finished_at"])
    logger.info("starter pack of model %s: %d picture(s) started", lora_model_id, made)
    return pack
