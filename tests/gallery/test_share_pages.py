"""Share pages as messengers and people see them: Open Graph / Twitter card tags with absolute
URLs and nothing private, a preview picture anyone holding the link can fetch; a revoked or
expired link gets its own page (410 Gone), one that never existed a 404; the link is shown in
a read-only box with a "Copy link" button."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from PIL import Image

from gallery import imaging
from gallery.models import ShareLink
from gallery.services import (
    collection_create,
    collection_images_add,
    share_link_create,
    share_link_revoke,
    share_link_token,
)
from tests.gallery.factories import make_generation, make_image, picture, ready_lora_model

pytestmark = pytest.mark.django_db


def _path(link) -> str:
    return f"/s/{share_link_token(link)}/"


def _meta(html: str) -> dict[str, str]:
    tags = re.findall(r'<meta (?:property|name)="((?:og|twitter):[^"]+)" content="([^"]*)"', html)
    return {name: content.replace("&amp;", "&") for name, content in tags}


@pytest.fixture
def private_image(owner):
    """A picture whose prompt holds the owner's trigger word."""
    lora_model = ready_lora_model(owner, None, trigger_word="ZORVEK", name="Robin Likeness")
    generation = make_generation(
        owner, lora_model=lora_model, prompt="ZORVEK on a secret beach", prompt_sent="ZORVEK x"
    )
    return make_image(owner, generation=generation)


def test_an_image_link_previews_in_messengers_with_nothing_private(owner, private_image):
    link = share_link_create(user=owner, image=private_image)
    response = Client().get(_path(link))
    assert response.status_code == 200
    html = response.content.decode()
    meta = _meta(html)
    for name in ("og:title", "og:description", "og:image", "og:url", "og:type", "twitter:card"):
        assert meta.get(name), name
    assert meta["twitter:card"] == "summary_large_image"
    assert meta["og:url"] == f"http://testserver{_path(link)}"
    assert meta["og:image"].startswith("http://testserver/")
    assert meta["twitter:image"] == meta["og:image"]
    head = html.split("</head>", 1)[0]
    for private in ("ZORVEK", "secret beach", owner.email, "Robin Likeness"):
        assert private.lower() not in head.lower(), private

    # Anyone holding the link fetches the preview: a JPEG of the announced size.
    preview = Client().get(urlsplit(meta["og:image"]).path)
    assert preview.status_code == 200 and preview["Content-Type"] == "image/jpeg"
    with Image.open(io.BytesIO(preview.content)) as picture:
        assert picture.format == "JPEG"
        assert picture.size == (int(meta["og:image:width"]), int(meta["og:image:height"]))
        assert not picture.getexif()


def test_a_large_picture_previews_at_most_1200_pixels_wide(owner):
    image = make_image(owner)
    stored = imaging.output_process(picture(size=(1600, 900), fmt="PNG"), description="test")
    image.file.save("image.png", ContentFile(stored.content), save=False)
    image.width, image.height, image.format = 1600, 900, "png"
    image.save()
    link = share_link_create(user=owner, image=image)
    meta = _meta(Client().get(_path(link)).content.decode())
    assert (meta["og:image:width"], meta["og:image:height"]) == ("1200", "675")
    preview = Client().get(urlsplit(meta["og:image"]).path)
    with Image.open(io.BytesIO(preview.content)) as shrunk:
        assert shrunk.size == (1200, 675)


def test_a_collection_link_previews_its_newest_picture(owner):
    older = make_image(owner, created_at=timezone.now() - timedelta(hours=1))
    newer = make_image(owner)
    collection = collection_create(user=owner, name="Summer")
    collection_images_add(collection=collection, images=[older, newer])
    link = share_link_create(user=owner, collection=collection)
    meta = _meta(Client().get(_path(link)).content.decode())
    assert meta["og:title"] == "Summer"
    assert f"/{newer.id}/preview/" in meta["og:image"]


def test_the_preview_is_only_for_what_the_link_shares(owner):
    shared, other = make_image(owner), make_image(owner)
    link = share_link_create(user=owner, image=shared)
    assert Client().get(f"{_path(link)}{other.id}/preview/").status_code == 404
    share_link_revoke(link=link)
    assert Client().get(f"{_path(link)}{shared.id}/preview/").status_code == 404


def test_a_revoked_link_says_so_with_410(owner):
    link = share_link_create(user=owner, image=make_image(owner))
    share_link_revoke(link=link)
    response = Client().get(_path(link))
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link has been turned off." in html
    assert 'href="/accounts/signup/"' in html
    assert "og:image" not in html


def test_an_expired_link_says_so_with_410(owner, browser_as):
    link = share_link_create(user=owner, image=make_image(owner), expires_in_days=1)
    ShareLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = Client().get(_path(link))
    assert response.status_code == 410
    assert "This link has expired." in response.content.decode()
    # Signed in, the next step is one's own gallery rather than signing up.
    signed_in = browser_as(owner).get(_path(link)).content.decode()
    assert 'href="/gallery/"' in signed_in and "/accounts/signup/" not in signed_in


def test_a_link_that_never_existed_is_a_404_that_says_so(owner):
    link = share_link_create(user=owner, image=make_image(owner))
    forged = _path(link)[:-5] + "abcd/"
    response = Client().get(forged)
    assert response.status_code == 404
    assert "We could not find this link." in response.content.decode()


def test_the_link_is_shown_ready_to_copy(owner, browser_as):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    url = f"http://testserver{_path(link)}"
    revoked = share_link_create(user=owner, image=image)
    share_link_revoke(link=revoked)
    client = browser_as(owner)
    for page in (f"/gallery/images/{image.id}/", "/gallery/shares/"):
        html = client.get(page).content.decode()
        box = re.search(rf'id="share-url-{link.id}" value="([^"]+)" readonly', html)
        assert box and box.group(1) == url, page
        assert f'data-copy-target="share-url-{link.id}"' in html and "Copy link" in html
        assert f"/s/{share_link_token(revoked)}/" not in html
