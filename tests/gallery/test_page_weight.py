"""The gallery page's weight: a small thumbnail for ordinary screens, compressed HTML."""

from __future__ import annotations

import gzip
import io
import re

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image

from gallery import imaging
from gallery.models import GeneratedImage
from tests.gallery.factories import make_image

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _big_image(user, **fields) -> GeneratedImage:
    """An image whose thumbnail is the full 512 px (the factory's picture is smaller)."""
    image = make_image(user, **fields)
    picture = Image.effect_mandelbrot((768, 768), (-2.0, -1.5, 1.0, 1.5), 100).convert("RGB")
    buffer = io.BytesIO()
    picture.resize((512, 512)).save(buffer, "WEBP", quality=imaging.THUMBNAIL_QUALITY)
    with default_storage.open(image.thumbnail.name, "wb") as thumbnail:
        thumbnail.write(buffer.getvalue())
    GeneratedImage.objects.filter(pk=image.pk).update(width=1024, height=1024)
    image.refresh_from_db()
    return image


def test_the_grid_offers_the_small_thumbnail_and_the_large_one_for_dense_screens(owner):
    image = _big_image(owner)
    page = _signed_in(owner).get("/gallery/").content.decode()

    tag = re.search(rf'<img src="[^"]*/gallery/images/{image.id}/thumbnail_small/"[^>]*>', page)
    assert tag, "the grid's <img> loads the small thumbnail by default"
    small = f"/gallery/images/{image.id}/thumbnail_small/"
    large = f"/gallery/images/{image.id}/thumbnail/"
    assert f'srcset="{small} 256w, {large} 512w"' in tag.group(0)
    assert 'sizes="' in tag.group(0)


def test_the_small_thumbnail_is_256_px_made_once_and_kept_in_storage(owner, other_user):
    image = _big_image(owner)
    url = f"/gallery/images/{image.id}/thumbnail_small/"
    client = _signed_in(owner)

    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    small = b"".join(response.streaming_content)
    assert Image.open(io.BytesIO(small)).size == (256, 256)
    large = default_storage.open(image.thumbnail.name).read()
    assert len(small) < len(large) / 2

    stored = imaging.thumbnail_small_name(image.thumbnail.name)
    assert default_storage.exists(stored)
    modified = default_storage.get_modified_time(stored)
    assert b"".join(client.get(url).streaming_content) == small
    assert default_storage.get_modified_time(stored) == modified  # served, not made again

    # Another person's picture stays a 404, small or not.
    assert _signed_in(other_user).get(url).status_code == 404


def test_deleting_an_image_deletes_its_small_thumbnail(owner):
    image = _big_image(owner)
    client = _signed_in(owner)
    client.get(f"/gallery/images/{image.id}/thumbnail_small/")
    stored = imaging.thumbnail_small_name(image.thumbnail.name)
    assert default_storage.exists(stored)

    response = client.post(f"/gallery/images/{image.id}/delete/")

    assert response.status_code == 302
    assert not default_storage.exists(stored)


def test_the_gallery_html_is_compressed_when_the_browser_accepts_gzip(owner):
    for _ in range(3):
        _big_image(owner)
    client = _signed_in(owner)

    plain = client.get("/gallery/")
    compressed = client.get("/gallery/", HTTP_ACCEPT_ENCODING="gzip, deflate, br")

    assert "Content-Encoding" not in plain
    assert compressed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in compressed["Vary"]
    html = gzip.decompress(compressed.content).decode()
    assert 'id="gallery-grid"' in html
    assert len(compressed.content) < len(plain.content) / 3


def test_pictures_are_not_gzipped(owner):
    image = _big_image(owner)
    response = _signed_in(owner).get(
        f"/gallery/images/{image.id}/thumbnail/", HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response.status_code == 200
    assert "Content-Encoding" not in response
    assert b"".join(response.streaming_content)[:4] == b"RIFF"
