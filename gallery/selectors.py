"""Reads of the gallery app; every one is scoped to the owner (another user's object: 404).

Lists are plain querysets with their related rows joined (`select_related`), so a page costs the
same number of queries whatever its size. What a viewer may see of an image is decided in one
place, `images_viewable` / `image_viewable` below. Every "not there" (missing, someone else's,
a malformed id) is the one `core.exceptions.NotFound`.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import (
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    Q,
    QuerySet,
    Value,
)
from django.db.models.functions import Cast, Coalesce, Extract
from django.utils import timezone

from accounts.selectors import user_is_moderator
from core.exceptions import NotFound
from trainings.models import LoraModel

from .models import (
    LOOKS_LIKE_ME,
    Collection,
    GeneratedImage,
    Generation,
    ImageReport,
    ShareLink,
    StyleLora,
    StylePreset,
    StylePresetExample,
)

Moderation = GeneratedImage.Moderation
DEFAULT_MODEL = "default"


def _get(queryset: QuerySet, message: str = "Not found.", **lookup) -> Any:
    """The one row of `queryset` that `lookup` finds, else NotFound (a malformed id too)."""
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as error:
        raise NotFound(message) from error


# --- Who may see an image -------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    """Who is looking at images: a signed-in person (`user`), or anyone holding a share link
    (`link`), or a moderator at work (`Viewer.moderator`), who sees every image."""

    user: Any = None
    link: ShareLink | None = None
    # A moderator at work on the review queue: sees every image, whatever its state or owner.
    moderating: bool = False

    @classmethod
    def of(cls, user) -> Viewer:
        return cls(user=user)

    @classmethod
    def moderator(cls, user) -> Viewer:
        """A moderator (checked here, so a caller cannot hand anyone this view)."""
        if not user_is_moderator(user=user):
            raise NotFound("Not found.")
        return cls(user=user, moderating=True)

    @classmethod
    def holding(cls, link: ShareLink) -> Viewer:
        return cls(link=link)


def images_viewable(*, viewer: Viewer) -> QuerySet[GeneratedImage]:
    """Every image whose picture `viewer` may see or download: the rule, as a query.

    An owner sees their approved images (held or rejected ones are listed to them, never
    served); a share link shows what it covers, approved ones only; nobody else sees anything.
    """
    images = GeneratedImage.objects.select_related("generation", "generation__lora_model")
    if viewer.moderating:
        return images
    if viewer.link is not None:
        link = viewer.link
        images = images.filter(owner_id=link.owner_id)
        if link.image_id:
            images = images.filter(pk=link.image_id)
        else:
            images = images.filter(collections__id=link.collection_id)
    elif viewer.user is not None and viewer.user.is_authenticated:
        images = images.filter(owner=viewer.user)
    else:
        return images.none()
    return images.filter(moderation_state=Moderation.APPROVED)


def image_viewable(*, viewer: Viewer, image: GeneratedImage) -> bool:
    """The same rule for an image already loaded (a row of a list): no query for an owner."""
    if viewer.moderating:
        return True
    if viewer.link is not None:
        return images_viewable(viewer=viewer).filter(pk=image.pk).exists()
    return (
        viewer.user is not None
        and viewer.user.is_authenticated
        and image.owner_id == viewer.user.pk
        and image.moderation_state == Moderation.APPROVED
    )


def image_for_viewer(*, viewer: Viewer, image_id) -> GeneratedImage:
    """The image if `viewer` may see its picture; NotFound otherwise (whatever the reason)."""
    return _get(images_viewable(viewer=viewer), "Not found.", pk=image_id)


# --- Images ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageFilters:
    model: str | None = None  # a LoraModel id, or "default" for the platform's model
    collection: uuid.UUID | None = None
    favourite: bool | None = None
    created_from: date | None = None
    created_to: date | None = None
    status: str = Moderation.APPROVED  # a moderation state, or "all"
    sort: str = "newest"  # or LIKENESS_SORT: best likeness first (then newest)
    looks_like_me: bool = False  # only pictures scored LOOKS_LIKE_ME or more


LIKENESS_SORT = "likeness"
# One number that orders by likeness (not scored last), then by creation time to the
# microsecond: a keyset on (likeness_key, id) pages without OFFSET, like the newest-first list.
LIKENESS_KEY = ExpressionWrapper(
    (Coalesce(F("likeness"), Value(-1)) + Value(1)) * Value(10**16)
    + Cast(Extract("created_at", "epoch") * Value(1_000_000), BigIntegerField()),
    output_field=BigIntegerField(),
)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def image_list(*, user, filters: ImageFilters | None = None) -> QuerySet[GeneratedImage]:
    """The user's images, held and rejected ones too when asked for (listed, not served)."""
    filters = filters or ImageFilters()
    images = GeneratedImage.objects.filter(owner=user).select_related(
        "generation", "generation__lora_model"
    )
    if filters.status != "all":
        images = images.filter(moderation_state=filters.status)
    if filters.model == DEFAULT_MODEL:
        images = images.exclude(generation__target__contains=":")
    elif filters.model:
        images = images.filter(generation__lora_model_id=filters.model)
    if filters.collection:
        images = images.filter(collections__id=filters.collection, collections__owner=user)
    if filters.favourite is not None:
        images = images.filter(is_favourite=filters.favourite)
    if filters.created_from:
        images = images.filter(created_at__gte=_day_start(filters.created_from))
    if filters.created_to:
        images = images.filter(created_at__lt=_day_start(filters.created_to) + timedelta(days=1))
    if filters.looks_like_me:
        images = images.filter(likeness__gte=LOOKS_LIKE_ME)
    if filters.sort == LIKENESS_SORT:
        return images.annotate(likeness_key=LIKENESS_KEY).order_by("-likeness_key", "-id")
    return images.order_by("-created_at", "-id")


def image_likeness_key(*, image: GeneratedImage) -> int:
    """Where `image` stands in a best-likeness-first list (LIKENESS_KEY, computed by the
    database like the list's own)."""
    return (
        GeneratedImage.objects.filter(pk=image.pk)
        .annotate(likeness_key=LIKENESS_KEY)
        .values_list("likeness_key", flat=True)
        .get()
    )


def image_get(*, user, image_id) -> GeneratedImage:
    """One of the user's images, whatever its moderation state (its page, deleting it)."""
    images = GeneratedImage.objects.select_related("generation", "generation__lora_model")
    return _get(images, "Unknown image.", pk=image_id, owner=user)


def images_of_user(*, user, image_ids) -> list[GeneratedImage]:
    """The user's images among `image_ids` (others' ids are silently not found)."""
    return list(
        GeneratedImage.objects.filter(owner=user, pk__in=list(image_ids)).select_related(
            "generation"
        )
    )


@dataclass(frozen=True)
class Page:
    items: list
    next_cursor: str | None


def _encode_cursor(image: GeneratedImage) -> str:
    key = getattr(image, "likeness_key", None)
    first = image.created_at.isoformat() if key is None else key
    raw = json.dumps([first, str(image.id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime | int, uuid.UUID] | None:
    """(created_at, id) for the newest-first list, (likeness_key, id) for best likeness first;
    None for anything else (the first page)."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        first, image_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if isinstance(first, int) and not isinstance(first, bool):
            return (first, uuid.UUID(image_id)) if abs(first) < 2**63 else None
        return datetime.fromisoformat(first), uuid.UUID(image_id)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError):
        return None


def image_page(*, images: QuerySet[GeneratedImage], cursor: str | None, size: int) -> Page:
    """One page of an image_list, newest first or best likeness first, by keyset (no OFFSET)."""
    by_likeness = "likeness_key" in images.query.annotations
    position = _decode_cursor(cursor) if cursor else None
    if position is not None and isinstance(position[0], int) == by_likeness:
        first, image_id = position
        field = "likeness_key" if by_likeness else "created_at"
        images = images.filter(
            Q(**{f"{field}__lt": first}) | Q(**{field: first, "id__lt": image_id})
        )
    items = list(images[: size + 1])
    next_cursor = _encode_cursor(items[size - 1]) if len(items) > size else None
    return Page(items=items[:size], next_cursor=next_cursor)


# --- Generations and models -----------------------------------------------------------------


def generation_list(*, user, status: str | None = None) -> QuerySet[Generation]:
    generations = Generation.objects.filter(owner=user).select_related("lora_model")
    if status:
        generations = generations.filter(status=status)
    return generations.order_by("-created_at")


def generation_get(*, user, generation_id) -> Generation:
    generations = Generation.objects.select_related("lora_model", "style_preset", "style_lora")
    return _get(generations, "Unknown generation.", pk=generation_id, owner=user)


def generation_batch(*, generation: Generation) -> list[Generation]:
    """The generations sent together with this one (itself alone when it was not a batch)."""
    if generation.batch_id is None:
        return [generation]
    return list(
        Generation.objects.filter(owner_id=generation.owner_id, batch_id=generation.batch_id)
        .select_related("lora_model")
        .order_by("batch_index")
    )


def generation_visible_images(*, viewer: Viewer, generations) -> dict:
    """The images of each generation `viewer` may see, by generation id, in output order
    (one query)."""
    by_generation: dict = {generation.id: [] for generation in generations}
    for image in (
        images_viewable(viewer=viewer)
        .filter(generation__in=list(by_generation))
        .order_by("generation_id", "index")
    ):
        by_generation[image.generation_id].append(image)
    return by_generation


def generation_images_listed(*, user, generations) -> dict:
    """Every output of the user's generations by generation id, in output order, whatever its
    moderation state (one query): for showing "being checked" or "rejected" in their place."""
    by_generation: dict = {generation.id: [] for generation in generations}
    for image in GeneratedImage.objects.filter(
        owner=user, generation__in=list(by_generation)
    ).order_by("generation_id", "index"):
        by_generation[image.generation_id].append(image)
    return by_generation


def images_best_first(images: list[GeneratedImage]) -> list[GeneratedImage]:
    """Pictures in order of likeness, the best first (not scored last, then output order)."""
    return sorted(
        images, key=lambda image: (image.likeness is None, -(image.likeness or 0), image.index)
    )


def image_best_likeness(images: list[GeneratedImage]) -> GeneratedImage | None:
    """The approved picture that looks most like its owner, None when none was scored."""
    scored = [image for image in images if image.likeness is not None and image.is_visible]
    return images_best_first(scored)[0] if scored else None


def generation_first_image(*, viewer: Viewer, generation: Generation) -> GeneratedImage | None:
    """The first output of a generation that `viewer` may see (the simple service's answer)."""
    return images_viewable(viewer=viewer).filter(generation=generation).order_by("index").first()


def lora_models_ready(*, user) -> QuerySet[LoraModel]:
    return (
        LoraModel.objects.filter(
            owner=user, status=LoraModel.Status.READY, current_version__isnull=False
        )
        .select_related("current_version")
        .order_by("name")
    )


def lora_model_for_generation(*, user, model_ref: str) -> LoraModel | None:
    """A user's model named in a URL or a form: its id, name or Replicate name.

    None is the platform's default model (`default`). Another user's model is a 404.
    """
    if model_ref == DEFAULT_MODEL:
        return None
    models = LoraModel.objects.filter(owner=user).select_related("current_version")
    try:
        return models.get(pk=uuid.UUID(str(model_ref)))
    except (ValueError, LoraModel.DoesNotExist):
        pass
    named = models.filter(Q(name__iexact=model_ref) | Q(replicate_name=model_ref))
    # Two models may share a name: the newest ready one wins, else the newest.
    found = (
        named.filter(status=LoraModel.Status.READY).order_by("-created_at").first()
        or named.order_by("-created_at").first()
    )
    if found is None:
        raise NotFound("You have no model with this name.")
    return found


# --- Collections and share links ------------------------------------------------------------


def collection_list(*, user) -> QuerySet[Collection]:
    return (
        Collection.objects.filter(owner=user)
        .annotate(
            image_count=Count(
                "images", filter=Q(images__moderation_state=Moderation.APPROVED), distinct=True
            ),
            favourite_count=Count(
                "images",
                filter=Q(images__moderation_state=Moderation.APPROVED, images__is_favourite=True),
                distinct=True,
            ),
        )
        .order_by("-created_at")
    )


def collection_get(*, user, collection_id) -> Collection:
    return _get(collection_list(user=user), "Unknown collection.", pk=collection_id)


def share_link_list(*, user) -> QuerySet[ShareLink]:
    return (
        ShareLink.objects.filter(owner=user)
        .select_related("image", "collection")
        .order_by("-created_at")
    )


def share_link_get(*, user, link_id) -> ShareLink:
    return _get(share_link_list(user=user), "Unknown share link.", pk=link_id)


def shared_images(*, link: ShareLink) -> QuerySet[GeneratedImage]:
    """What a share link shows, newest first (its image, or its collection's)."""
    return images_viewable(viewer=Viewer.holding(link)).order_by("-created_at", "-id")


# --- The catalogue --------------------------------------------------------------------------


def style_preset_list() -> QuerySet[StylePreset]:
    return StylePreset.objects.filter(is_active=True).prefetch_related("examples")


def style_preset_get(*, preset_id) -> StylePreset:
    return _get(StylePreset.objects.filter(is_active=True), "Unknown style preset.", pk=preset_id)


def style_preset_example_get(*, example_id) -> StylePresetExample:
    examples = StylePresetExample.objects.filter(preset__is_active=True)
    return _get(examples, "Unknown example.", pk=example_id)


def style_lora_list() -> QuerySet[StyleLora]:
    return StyleLora.objects.filter(is_active=True)


def style_lora_get(*, style_id) -> StyleLora:
    return _get(style_lora_list(), "Unknown style.", pk=style_id)


def style_lora_find(*, reference: str) -> StyleLora | None:
    """A catalogue style named by its id, name or `extra_lora` reference."""
    styles = style_lora_list()
    try:
        return styles.get(pk=uuid.UUID(str(reference)))
    except (ValueError, StyleLora.DoesNotExist):
        pass
    return styles.filter(Q(name__iexact=reference) | Q(extra_lora=reference)).first()


# --- The review queue (moderators) -----------------------------------------------------------


@dataclass(frozen=True)
class ReviewFilters:
    reason: str = ""  # "prompt" (a rule sent it), "scan" (the classifier held it), "report"
    category: str = ""  # a prompt rule's category
    owner: str = ""  # an owner's e-mail (exact, any case)


def review_queue(*, filters: ReviewFilters | None = None) -> QuerySet[GeneratedImage]:
    """What waits for a moderator, oldest first: held images, and shown ones someone reported."""
    filters = filters or ReviewFilters()
    reported = Q(moderation_state=Moderation.APPROVED, reports__status=ImageReport.Status.OPEN)
    images = GeneratedImage.objects.filter(Q(moderation_state=Moderation.HELD) | reported)
    if filters.reason == "prompt":
        images = images.exclude(generation__review_category="")
    elif filters.reason == "scan":
        images = images.filter(
            moderation_state=Moderation.HELD, generation__review_category="", scan__verdict="held"
        )
    elif filters.reason == "report":
        images = images.filter(reports__status=ImageReport.Status.OPEN)
    if filters.category:
        images = images.filter(generation__review_category=filters.category)
    if filters.owner:
        images = images.filter(owner__email__iexact=filters.owner)
    ids = images.values("pk")
    return (
        GeneratedImage.objects.filter(pk__in=ids)
        .select_related("generation", "generation__lora_model", "owner", "scan")
        .annotate(open_reports=Count("reports", filter=Q(reports__status="open")))
        .order_by("created_at", "id")
    )


def review_image_get(*, moderator, image_id) -> GeneratedImage:
    """Any image, for a moderator (NotFound for anyone else, or a missing image)."""
    return image_for_viewer(viewer=Viewer.moderator(moderator), image_id=image_id)


def owner_review_history(*, user) -> dict[str, int]:
    """What a moderator weighs: the owner's rejected pictures and open reports."""
    images = GeneratedImage.objects.filter(owner=user)
    return {
        "rejected": images.filter(moderation_state=Moderation.REJECTED).count(),
        "held": images.filter(moderation_state=Moderation.HELD).count(),
        "reports": ImageReport.objects.filter(image__owner=user).count(),
    }


def image_reports_open() -> QuerySet[ImageReport]:
    return (
        ImageReport.objects.filter(status=ImageReport.Status.OPEN)
        .select_related("image", "image__owner", "reporter")
        .order_by("created_at", "id")
    )


# --- The catalogue as one person sees it, and starter packs (gallery/catalogue_selectors.py) --

from .catalogue_selectors import (  # noqa: E402, F401
    StarterPackView,
    starter_pack_for_model,
    style_preset_list_for,
)
