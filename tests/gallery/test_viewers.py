"""Who may see an image's picture, decided by one selector and obeyed by every door to a file:
the API's files, the pages' files, zips, the profile picture, share links, list URLs; and every
gallery selector says "not there" with the one NotFound."""

from __future__ import annotations

import io
import uuid
import zipfile

import pytest
from django.test import Client

from core.exceptions import NotFound
from gallery import selectors
from gallery.models import GeneratedImage
from gallery.selectors import Viewer
from gallery.services import (
    collection_create,
    collection_images_add,
    share_link_create,
    share_link_token,
)
from tests.gallery.factories import make_image

pytestmark = pytest.mark.django_db

Moderation = GeneratedImage.Moderation


@pytest.fixture
def images(owner):
    return {
        "approved": make_image(owner),
        "pending": make_image(owner, moderation=Moderation.PENDING),
        "rejected": make_image(owner, moderation=Moderation.REJECTED),
    }


def test_the_rule_owner_sees_approved_only_others_nothing(owner, stranger, images):
    mine = Viewer.of(owner)
    assert set(selectors.images_viewable(viewer=mine)) == {images["approved"]}
    assert not selectors.images_viewable(viewer=Viewer.of(stranger)).exists()
    for name, image in images.items():
        assert selectors.image_viewable(viewer=mine, image=image) is (name == "approved")
        assert not selectors.image_viewable(viewer=Viewer.of(stranger), image=image)
    assert selectors.image_for_viewer(viewer=mine, image_id=images["approved"].id)
    for image_id in (images["pending"].id, images["rejected"].id, uuid.uuid4(), "not-a-uuid"):
        with pytest.raises(NotFound):
            selectors.image_for_viewer(viewer=mine, image_id=image_id)
    with pytest.raises(NotFound):
        selectors.image_for_viewer(viewer=Viewer.of(stranger), image_id=images["approved"].id)


def test_a_link_shows_what_it_covers_and_only_approved(owner, images):
    outside = make_image(owner)
    collection = collection_create(user=owner, name="Campaign")
    collection_images_add(collection=collection, images=list(images.values()))
    viewer = Viewer.holding(share_link_create(user=owner, collection=collection))
    assert set(selectors.images_viewable(viewer=viewer)) == {images["approved"]}
    assert selectors.image_viewable(viewer=viewer, image=images["approved"])
    for image in (images["pending"], images["rejected"], outside):
        assert not selectors.image_viewable(viewer=viewer, image=image)
        with pytest.raises(NotFound):
            selectors.image_for_viewer(viewer=viewer, image_id=image.id)


@pytest.mark.parametrize(
    "call",
    [
        lambda user: selectors.image_get(user=user, image_id="nope"),
        lambda user: selectors.image_get(user=user, image_id=uuid.uuid4()),
        lambda user: selectors.generation_get(user=user, generation_id="nope"),
        lambda user: selectors.collection_get(user=user, collection_id="nope"),
        lambda user: selectors.collection_get(user=user, collection_id=None),
        lambda user: selectors.share_link_get(user=user, link_id="nope"),
        lambda user: selectors.style_preset_get(preset_id="nope"),
        lambda user: selectors.style_preset_example_get(example_id="nope"),
        lambda user: selectors.style_lora_get(style_id=uuid.uuid4()),
        lambda user: selectors.lora_model_for_generation(user=user, model_ref="nobody"),
    ],
)
def test_selectors_say_not_found_with_one_error(owner, call):
    with pytest.raises(NotFound):
        call(owner)


def test_held_images_are_listed_but_never_served(owner, images, as_user, browser_as):
    api, page = as_user(owner), browser_as(owner)
    listed = api.get("/api/v1/images/?status=all").json()["results"]
    urls = {row["id"]: row["url"] for row in listed}
    assert urls[str(images["approved"].id)].endswith("/file/")
    for name in ("pending", "rejected"):
        image_id = images[name].id
        assert urls[str(image_id)] is None
        for variant in ("file", "thumbnail", "download"):
            assert api.get(f"/api/v1/images/{image_id}/{variant}/").status_code == 404
            assert page.get(f"/gallery/images/{image_id}/{variant}/").status_code == 404
        assert api.post(f"/api/v1/images/{image_id}/avatar/").status_code == 404
    served = api.get(f"/api/v1/images/{images['approved'].id}/file/")
    assert served.status_code == 200
    assert served["Cache-Control"] == "private, max-age=300"  # random names, never changed
    assert page.get(f"/gallery/images/{images['approved'].id}/nonsense/").status_code == 404
    grid = page.get("/gallery/?status=all").content.decode()
    assert f"/gallery/images/{images['approved'].id}/thumbnail/" in grid
    assert f"/gallery/images/{images['pending'].id}/thumbnail/" not in grid


def test_zips_hold_only_what_the_owner_may_download(owner, stranger, images, as_user, browser_as):
    theirs = make_image(stranger)
    ids = [str(image.id) for image in (*images.values(), theirs)]
    response = as_user(owner).post("/api/v1/images/zip/", {"image_ids": ids})
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content))).namelist()
    assert sorted(names) == sorted([f"{images['approved'].id}.webp", "metadata.json"])
    held = [str(images["pending"].id), str(images["rejected"].id)]
    refused = as_user(owner).post("/api/v1/images/zip/", {"image_ids": held})
    assert refused.status_code == 400 and "image_ids" in refused.json()["errors"]
    page = browser_as(owner).post("/gallery/bulk/", {"action": "zip", "image_ids": held})
    assert page.status_code == 302 and page["Location"] == "/gallery/"


def test_a_share_page_serves_only_the_links_approved_images(owner, images):
    collection = collection_create(user=owner, name="Campaign")
    collection_images_add(collection=collection, images=list(images.values()))
    path = f"/s/{share_link_token(share_link_create(user=owner, collection=collection))}/"
    anonymous = Client()
    assert anonymous.get(f"{path}{images['approved'].id}/file/").status_code == 200
    assert anonymous.get(f"{path}{images['approved'].id}/download/").status_code == 404
    for name in ("pending", "rejected"):
        assert anonymous.get(f"{path}{images[name].id}/file/").status_code == 404
        assert anonymous.get(f"{path}{images[name].id}/thumbnail/").status_code == 404
