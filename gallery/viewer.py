"""The picture viewer's reads: the pictures before and after one in the list it was opened from.

The list is the gallery's (`selectors.image_list`, with the grid's filters) or a collection's,
always the owner's own, so the same pictures are stepped through as the grid shows, in its order
(newest first). Each neighbour is one keyset query on (created_at, id), the grid's ordering and
index, so stepping costs the same at the 10th picture as at the 10,000th.

The grid passes its filters in the query string (`list_query`); the viewer carries them on its
links, so previous / next / back stay in the same list.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import NoReverseMatch, reverse

from . import selectors
from .models import GeneratedImage

# The grid's filters (gallery.forms.ImageFilterForm), and where the list was opened from.
LIST_PARAMETERS = (
    "model",
    "collection",
    "favourite",
    "created_from",
    "created_to",
    "status",
    "sort",
    "looks_like_me",
)
FROM_COLLECTION = "collection"


@dataclass(frozen=True)
class Neighbours:
    previous: GeneratedImage | None  # newer: shown before it in the grid
    next: GeneratedImage | None  # older: shown after it


def image_neighbours(*, images: QuerySet[GeneratedImage], image: GeneratedImage) -> Neighbours:
    """The pictures just before and after `image` in `images` (ordered newest first), whether
    or not `image` itself is in it: two indexed queries, whatever the list's length."""
    if "likeness_key" in images.query.annotations:  # best likeness first: its keyset
        key, image_id = selectors.image_likeness_key(image=image), image.id
        before = images.filter(
            Q(likeness_key__gt=key) | Q(likeness_key=key, id__gt=image_id)
        ).order_by("likeness_key", "id")
        after = images.filter(
            Q(likeness_key__lt=key) | Q(likeness_key=key, id__lt=image_id)
        ).order_by("-likeness_key", "-id")
        return Neighbours(previous=before.first(), next=after.first())
    created, image_id = image.created_at, image.id
    newer = images.filter(
        Q(created_at__gt=created) | Q(created_at=created, id__gt=image_id)
    ).order_by("created_at", "id")
    older = images.filter(
        Q(created_at__lt=created) | Q(created_at=created, id__lt=image_id)
    ).order_by("-created_at", "-id")
    return Neighbours(previous=newer.first(), next=older.first())


def list_query(query: QueryDict, *, collection_id=None) -> str:
    """The query string that names a list of the grid: its filters (no cursor, nothing else),
    plus the collection when the grid is a collection's page."""
    kept = [(name, query.get(name)) for name in LIST_PARAMETERS if query.get(name)]
    if query.get("from") == FROM_COLLECTION and query.get("collection"):
        kept.append(("from", FROM_COLLECTION))
    if collection_id is not None:
        kept = [(name, value) for name, value in kept if name != "collection"]
        kept += [("collection", str(collection_id)), ("from", FROM_COLLECTION)]
    return urlencode(kept)


def back_url(query: QueryDict) -> str:
    """The grid the viewer was opened from, with its filters (Esc, "Back")."""
    if query.get("from") == FROM_COLLECTION and query.get("collection"):
        try:
            return reverse("gallery:collection", args=[query["collection"]])
        except NoReverseMatch:  # a malformed id: back to the gallery
            pass
    kept = list_query(query)
    gallery = reverse("gallery:gallery")
    return f"{gallery}?{kept}" if kept else gallery


def viewer_url(image: GeneratedImage, query: str) -> str:
    url = reverse("gallery:image", args=[image.id])
    return f"{url}?{query}" if query else url


def viewer_list(*, user, filters: selectors.ImageFilters) -> QuerySet[GeneratedImage]:
    """The list the viewer steps through: the owner's, as the grid filters it."""
    return selectors.image_list(user=user, filters=filters)
