"""`next` is followed only when it stays on this site: no open redirect from the gallery's forms."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from core.redirects import safe_next_url
from tests.gallery.factories import make_image

pytestmark = pytest.mark.django_db

OFF_SITE = ["https://evil.example", "//evil.example", "/\\evil.example", "http://evil.example/x"]


@pytest.mark.parametrize("next_url", OFF_SITE)
def test_off_site_next_goes_to_the_fallback(owner, browser_as, next_url):
    image = make_image(owner)
    client = browser_as(owner)
    favourite = client.post(f"/gallery/images/{image.id}/favourite/", {"next": next_url})
    assert favourite.status_code == 302
    assert favourite["Location"] == f"/gallery/images/{image.id}/"
    bulk = client.post(
        "/gallery/bulk/", {"action": "favourite", "image_ids": [str(image.id)], "next": next_url}
    )
    assert bulk.status_code == 302 and bulk["Location"] == "/gallery/"


def test_a_local_next_is_followed(owner, browser_as):
    image = make_image(owner)
    client = browser_as(owner)
    favourite = client.post(
        f"/gallery/images/{image.id}/favourite/", {"next": "/gallery/?favourite=on"}
    )
    assert favourite["Location"] == "/gallery/?favourite=on"
    bulk = client.post(
        "/gallery/bulk/",
        {"action": "unfavourite", "image_ids": [str(image.id)], "next": "/gallery/collections/"},
    )
    assert bulk["Location"] == "/gallery/collections/"


def test_the_helper_reads_post_then_get_and_keeps_https(settings):
    settings.ALLOWED_HOSTS = ["avatars.example.com", "testserver"]
    factory = RequestFactory()
    request = factory.get("/x", {"next": "/mine/"})
    assert safe_next_url(request, "/home/") == "/mine/"
    request = factory.post("/x?next=/from-get/", {"next": "/from-post/"})
    assert safe_next_url(request, "/home/") == "/from-post/"
    same_host = "http://avatars.example.com/page/"
    plain = factory.get("/x", {"next": same_host}, HTTP_HOST="avatars.example.com")
    assert safe_next_url(plain, "/home/") == same_host
    secure = factory.get("/x", {"next": same_host}, HTTP_HOST="avatars.example.com", secure=True)
    assert safe_next_url(secure, "/home/") == "/home/"
    for url in OFF_SITE:
        assert safe_next_url(factory.get("/x", {"next": url}), "/home/") == "/home/"
    assert safe_next_url(factory.get("/x"), "/home/") == "/home/"
