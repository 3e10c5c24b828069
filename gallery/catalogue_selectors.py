"""Reads of the catalogue as one person sees it (style packs with their example pictures) and
of a model's starter pack. Part of gallery/selectors.py, which re-exports them.

A pack's example is the person's own picture in that style, never another person's (pictures are
of a person); without one, the catalogue's, which shows nobody's likeness (services.presets)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery

from .models import GeneratedImage, Generation, StarterPack, StylePreset

Moderation = GeneratedImage.Moderation


def style_preset_list_for(*, user) -> QuerySet[StylePreset]:
    """The active packs, each with `own_example_id`: the person's own best picture in that
    style (a favourite first, then the best likeness, then the newest), approved by
    moderation. `example_path` then prefers it to the admins' examples."""
    presets = StylePreset.objects.filter(is_active=True).prefetch_related("examples")
    if user is None or not user.is_authenticated:
        return presets
    own = (
        GeneratedImage.objects.filter(
            owner=user,
            moderation_state=Moderation.APPROVED,
            generation__style_preset=OuterRef("pk"),
        )
        .order_by("-is_favourite", F("likeness").desc(nulls_last=True), "-created_at", "-id")
        .values("pk")[:1]
    )
    return presets.annotate(own_example_id=Subquery(own))


def style_pack_cards_for(*, user) -> list[StylePreset]:
    """The packs of the generate page. Besides `own_example_id`, each has `example_cost` (what
    one example picture from the person's model costs) and `example_generation_id`: the newest
    generation in that style still running or whose picture is still being checked, so that a
    pack without an example says one is on its way instead of offering to make another."""
    presets = style_preset_list_for(user=user)
    if user is None or not user.is_authenticated:
        return list(presets)
    under_way = (
        _generations_under_way(user=user)
        .filter(style_preset=OuterRef("pk"))
        .order_by("-created_at")
        .values("pk")[:1]
    )
    cards = list(presets.annotate(example_generation_id=Subquery(under_way)))
    for preset in cards:
        preset.example_cost = style_example_cost(preset=preset)
    return cards


def _generations_under_way(*, user) -> QuerySet[Generation]:
    """The person's generations still running, or whose pictures are still being checked."""
    return Generation.objects.filter(owner=user).filter(
        Q(status__in=Generation.ACTIVE)
        | Q(images__moderation_state__in=(Moderation.PENDING, Moderation.HELD))
    )


def style_example_under_way(*, user, preset: StylePreset) -> bool:
    """Whether a picture in `preset`'s style is being made or checked for the person."""
    return _generations_under_way(user=user).filter(style_preset=preset).exists()


def style_example_cost(*, preset: StylePreset) -> int:
    """The credits of one picture in the pack's style from a trained model (the pack may ask
    for another FLUX model than the default one)."""
    from .services.parameters import DEFAULTS, cost_per_image  # the services import this module

    flux_model = (preset.parameters or {}).get("model") or DEFAULTS["model"]
    return cost_per_image(flux_model=str(flux_model))


@dataclass(frozen=True)
class StarterPackRow:
    style_name: str
    state: str  # "skipped", "waiting", "failed", "checking", "rejected", "done"
    preset_id: object = None
    generation: Generation | None = None
    image: GeneratedImage | None = None
    reason: str = ""


@dataclass(frozen=True)
class StarterPackView:
    pack: StarterPack
    rows: list[StarterPackRow]

    @property
    def running(self) -> bool:
        return any(row.state in ("waiting", "checking") for row in self.rows) or (
            self.pack.finished_at is None
        )


def starter_pack_for_model(*, user, model) -> StarterPackView | None:
    """The starter pack of one of `user`'s models, a row per style; None for anyone else's
    model, or when the model has no pack."""
    if model is None or user is None or not user.is_authenticated:
        return None
    pack = StarterPack.objects.filter(lora_model_id=model.pk, owner=user).first()
    if pack is None:
        return None
    items = pack.items.select_related("generation")
    generation_ids = [item.generation_id for item in items if item.generation_id]
    first_images: dict = {}
    # Of several pictures of a style, the one that looks most like its owner.
    shown = GeneratedImage.objects.filter(
        owner=user, generation_id__in=generation_ids, moderation_state=Moderation.APPROVED
    ).order_by(F("likeness").desc(nulls_last=True), "index")
    for image in shown:
        first_images.setdefault(image.generation_id, image)
    # Styles whose every picture a moderator rejected: over, not "being checked".
    rejected = set(
        GeneratedImage.objects.filter(owner=user, generation_id__in=generation_ids)
        .values("generation_id")
        .annotate(
            pictures=Count("pk"),
            rejections=Count("pk", filter=Q(moderation_state=Moderation.REJECTED)),
        )
        .filter(pictures=F("rejections"))
        .values_list("generation_id", flat=True)
    )
    rows = []
    for item in items:
        generation = item.generation
        if item.skipped_reason:
            rows.append(
                StarterPackRow(
                    item.style_name, "skipped", item.preset_id, reason=item.skipped_reason
                )
            )
        elif generation is None:
            continue  # its generation was deleted
        elif generation.status in (Generation.Status.FAILED, Generation.Status.CANCELED):
            rows.append(StarterPackRow(item.style_name, "failed", item.preset_id, generation))
        elif generation.status != Generation.Status.SUCCEEDED:
            rows.append(StarterPackRow(item.style_name, "waiting", item.preset_id, generation))
        elif image := first_images.get(generation.id):
            rows.append(StarterPackRow(item.style_name, "done", item.preset_id, generation, image))
        elif generation.id in rejected:
            rows.append(StarterPackRow(item.style_name, "rejected", item.preset_id, generation))
        else:  # being scanned, or held for a moderator
            rows.append(StarterPackRow(item.style_name, "checking", item.preset_id, generation))
    return StarterPackView(pack=pack, rows=rows)
