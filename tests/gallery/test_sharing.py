"""Share links: signed, expiring, revocable; a shared page shows only what was shared and only
what moderation allows; a revoked, expired or forged link is a 404 like one that never was."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gallery.models import GeneratedImage, ShareLink
from gallery.services import (
    collection_create,
    collection_images_add,
    share_link_create,
    share_link_token,
)
from tests.gallery.factories import make_image

pytestmark = pytest.mark.django_db


def _path(link) -> str:
    return f"/s/{share_link_token(link)}/"


def test_an_image_link_shows_that_image_to_anyone(owner):
    image = make_image(owner)
    other = make_image(owner)
    link = share_link_create(user=owner, image=image)
    anonymous = Client()
    page = anonymous.get(_path(link))
    assert page.status_code == 200
    assert str(image.id) in page.content.decode()
    assert str(other.id) not in page.content.decode()
    assert page["X-Robots-Tag"] == "noindex"
    file = anonymous.get(f"{_path(link)}{image.id}/file/")
    assert file.status_code == 200 and file["Content-Type"] == "image/webp"
    assert anonymous.get(f"{_path(link)}{image.id}/thumbnail/").status_code == 200
    assert anonymous.get(f"{_path(link)}{other.id}/file/").status_code == 404
    link.refresh_from_db()
    assert link.view_count == 1


def test_a_collection_link_shows_only_its_approved_images(owner):
    shown = make_image(owner)
    pending = make_image(owner, moderation=GeneratedImage.Moderation.PENDING)
    rejected = make_image(owner, moderation=GeneratedImage.Moderation.REJECTED)
    outside = make_image(owner)
    collection = collection_create(user=owner, name="Campaign")
    collection_images_add(collection=collection, images=[shown, pending, rejected])
    link = share_link_create(user=owner, collection=collection)
    anonymous = Client()
    content = anonymous.get(_path(link)).content.decode()
    assert str(shown.id) in content
    for hidden in (pending, rejected, outside):
        assert str(hidden.id) not in content
        assert anonymous.get(f"{_path(link)}{hidden.id}/file/").status_code == 404


def test_revoked_expired_and_forged_links_are_404(owner, as_user):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image, expires_in_days=1)
    client = as_user(owner)
    anonymous = Client()
    path = _path(link)
    assert anonymous.get(path).status_code == 200

    forged = path.replace(share_link_token(link)[-4:], "abcd")
    assert anonymous.get(forged).status_code == 404
    assert anonymous.get(f"/s/{link.id.hex}/").status_code == 404

    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert anonymous.get(path).status_code == 410  # its page says so (test_share_pages.py)
    assert anonymous.get(f"{path}{image.id}/file/").status_code == 404

    fresh = share_link_create(user=owner, image=image)
    assert anonymous.get(_path(fresh)).status_code == 200
    assert client.delete(f"/api/v1/share-links/{fresh.id}/").status_code == 204
    assert anonymous.get(_path(fresh)).status_code == 410
    assert anonymous.get(f"{_path(fresh)}{image.id}/thumbnail/").status_code == 404


def test_an_image_hidden_after_sharing_is_no_longer_shown(owner):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    GeneratedImage.objects.filter(pk=image.pk).update(
        moderation_state=GeneratedImage.Moderation.REJECTED
    )
    assert Client().get(_path(link)).status_code == 404


def test_share_links_api(owner, stranger, as_user, api):
    image = make_image(owner)
    client = as_user(owner)
    created = client.post("/api/v1/share-links/", {"image": str(image.id), "expires_in_days": 3})
    assert created.status_code == 201
    body = created.json()
    assert body["is_active"] is True
    assert body["url"].startswith("http://testserver/s/")
    assert Client().get(body["url"].removeprefix("http://testserver")).status_code == 200
    forever = client.post(
        "/api/v1/share-links/", {"image": str(image.id), "never_expires": True}
    ).json()
    assert forever["expires_at"] is None
    listed = client.get("/api/v1/share-links/").json()["results"]
    assert {item["id"] for item in listed} == {body["id"], forever["id"]}

    for payload, field in [
        ({}, "image"),
        ({"image": str(image.id), "collection": str(image.id)}, "image"),
        ({"image": str(image.id), "expires_in_days": 0}, "expires_in_days"),
        ({"image": str(image.id), "expires_in_days": 5000}, "expires_in_days"),
        ({"image": "not-a-uuid"}, "image"),
    ]:
        response = client.post("/api/v1/share-links/", payload)
        assert response.status_code == 400 and field in response.json()["errors"], payload

    other = as_user(stranger)
    refused = other.post("/api/v1/share-links/", {"image": str(image.id)})
    assert refused.status_code == 400 and "image" in refused.json()["errors"]
    assert other.get(f"/api/v1/share-links/{body['id']}/").status_code == 404
    assert other.delete(f"/api/v1/share-links/{body['id']}/").status_code == 404
    assert other.get("/api/v1/share-links/").json()["results"] == []
    assert api.get("/api/v1/share-links/").status_code == 401
    assert ShareLink.objects.get(pk=body["id"]).revoked_at is None


def test_a_pending_image_cannot_be_shared(owner, as_user):
    image = make_image(owner, moderation=GeneratedImage.Moderation.PENDING)
    response = as_user(owner).post("/api/v1/share-links/", {"image": str(image.id)})
    assert response.status_code == 400 and "image" in response.json()["errors"]
