"""The picture viewer: previous / next in the order of the grid it was opened from (the gallery
with its filters, or a collection), as plain links; only the owner's pictures, only what the
grid shows; each step one indexed query whatever the list's length."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gallery import selectors
from gallery.models import GeneratedImage
from gallery.services import collection_create, collection_images_add
from gallery.viewer import image_neighbours
from tests.gallery.factories import make_image

pytestmark = pytest.mark.django_db

HELD = GeneratedImage.Moderation.HELD


def _link(html: str, rel: str) -> str | None:
    """The href of the page's <a rel=…> step link, or None when there is none."""
    found = re.search(rf'<a [^>]*href="([^"]+)"[^>]*rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _image_id(url: str) -> str:
    return urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]


def _three(owner, **fields_by_name):
    """Three pictures a minute apart: the grid shows newest, middle, oldest in this order."""
    now = timezone.now()
    return {
        name: make_image(owner, created_at=now - timedelta(minutes=minutes), **fields)
        for name, minutes, fields in (
            ("newest", 1, fields_by_name.get("newest", {})),
            ("middle", 2, fields_by_name.get("middle", {})),
            ("oldest", 3, fields_by_name.get("oldest", {})),
        )
    }


def test_previous_and_next_follow_the_gallery_order_and_stop_at_its_ends(owner, browser_as):
    images = _three(owner)
    client = browser_as(owner)

    middle = client.get(f"/gallery/images/{images['middle'].id}/").content.decode()
    assert _image_id(_link(middle, "prev")) == str(images["newest"].id)
    assert _image_id(_link(middle, "next")) == str(images["oldest"].id)

    first = client.get(f"/gallery/images/{images['newest'].id}/").content.decode()
    assert _link(first, "prev") is None
    assert _image_id(_link(first, "next")) == str(images["middle"].id)
    assert 'aria-disabled="true">‹ Previous' in first

    last = client.get(f"/gallery/images/{images['oldest'].id}/").content.decode()
    assert _image_id(_link(last, "prev")) == str(images["middle"].id)
    assert _link(last, "next") is None


def test_the_grid_filters_are_kept_on_every_step_and_on_the_way_back(owner, browser_as):
    images = _three(owner, newest={"is_favourite": True}, oldest={"is_favourite": True})
    client = browser_as(owner)

    grid = client.get("/gallery/?favourite=on").content.decode()
    opened = f"/gallery/images/{images['oldest'].id}/?favourite=on"
    assert opened.replace("&", "&amp;") in grid  # a grid item opens the viewer in its list

    page = client.get(opened).content.decode()
    previous = _link(page, "prev")
    # The middle picture is not a favourite: the viewer steps over it, as the grid does.
    assert _image_id(previous) == str(images["newest"].id)
    assert parse_qs(urlsplit(previous).query) == {"favourite": ["on"]}
    assert _link(page, "next") is None
    assert f'href="/gallery/?favourite=on#image-{images["oldest"].id}"' in page

    # Without the filter, the same picture's neighbour is the middle one.
    unfiltered = client.get(f"/gallery/images/{images['oldest'].id}/").content.decode()
    assert _image_id(_link(unfiltered, "prev")) == str(images["middle"].id)


def test_a_collection_grid_opens_the_viewer_in_the_collection(owner, browser_as):
    images = _three(owner)
    collection = collection_create(user=owner, name="Holidays")
    collection_images_add(collection=collection, images=[images["newest"], images["oldest"]])
    client = browser_as(owner)

    grid = client.get(f"/gallery/collections/{collection.id}/").content.decode()
    href = re.search(rf'href="(/gallery/images/{images["oldest"].id}/\?[^"]+)"', grid).group(1)
    page = client.get(href.replace("&amp;", "&")).content.decode()
    assert _image_id(_link(page, "prev")) == str(images["newest"].id)
    assert f'href="/gallery/collections/{collection.id}/#image-{images["oldest"].id}"' in page


def test_held_pictures_are_stepped_over_and_never_served_to_anyone_else(
    owner, stranger, browser_as
):
    images = _three(owner, middle={"moderation": HELD})
    owner_client = browser_as(owner)
    page = owner_client.get(f"/gallery/images/{images['newest'].id}/").content.decode()
    assert _image_id(_link(page, "next")) == str(images["oldest"].id)

    # The owner's "held" list steps through held pictures, shown as "being checked".
    held_page = owner_client.get(f"/gallery/images/{images['middle'].id}/?status=held")
    assert held_page.status_code == 200
    assert f"/gallery/images/{images['middle'].id}/file/" not in held_page.content.decode()

    stranger_client = browser_as(stranger)
    for image in images.values():
        for query in ("", "?status=all", "?status=held"):
            response = stranger_client.get(f"/gallery/images/{image.id}/{query}")
            assert response.status_code == 404


def test_a_strangers_pictures_are_never_neighbours(owner, stranger, browser_as):
    mine = _three(owner)
    now = timezone.now()
    # Theirs sit between mine in time: they must not show up as a step.
    make_image(stranger, created_at=now - timedelta(minutes=1, seconds=30))
    make_image(stranger, created_at=now - timedelta(minutes=2, seconds=30))
    page = browser_as(owner).get(f"/gallery/images/{mine['middle'].id}/").content.decode()
    assert _image_id(_link(page, "prev")) == str(mine["newest"].id)
    assert _image_id(_link(page, "next")) == str(mine["oldest"].id)


def test_anonymous_is_sent_to_sign_in(owner, client):
    image = make_image(owner)
    response = client.get(f"/gallery/images/{image.id}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_each_step_is_one_query_whatever_the_list_length(owner):
    now = timezone.now()
    images = [make_image(owner, created_at=now - timedelta(seconds=i)) for i in range(12)]
    # Two pictures at the very same instant: the id settles their order, as in the grid.
    twin = make_image(owner, created_at=images[5].created_at)
    listed = list(selectors.image_list(user=owner))
    middle = listed.index(images[5])
    with CaptureQueriesContext(connection) as queries:
        neighbours = image_neighbours(images=selectors.image_list(user=owner), image=images[5])
    assert len(queries) == 2
    assert neighbours.previous == listed[middle - 1]
    assert neighbours.next == listed[middle + 1]
    assert twin in (neighbours.previous, neighbours.next)
