"""With S3 configured, images go to the bucket and are served by presigned redirects that a real
S3 server (SeaweedFS) checks: the signed URL works, the same URL unsigned or tampered does not."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from botocore.exceptions import ClientError
from django.test import Client

from gallery.services import share_link_create, share_link_token
from tests.gallery.factories import make_image
from tests.gallery.s3_fixtures import s3_server  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db


@pytest.fixture
def s3_storage(settings, s3_server):  # noqa: F811
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": s3_server.bucket,
                "endpoint_url": s3_server.endpoint_url,
                "access_key": s3_server.access_key,
                "secret_key": s3_server.secret_key,
                "region_name": "us-east-1",
                "signature_version": "s3v4",
                "addressing_style": "path",
                "default_acl": None,
                "querystring_auth": True,
                "file_overwrite": False,
            },
        },
    }
    settings.GALLERY_PRESIGN_EXPIRY_SECONDS = 90
    return s3_server


def test_images_are_stored_in_the_bucket_and_served_by_presigned_redirect(
    owner, stranger, s3_storage, as_user
):
    image = make_image(owner, fmt="PNG")
    bucket = s3_storage.client()
    stored = bucket.get_object(Bucket=s3_storage.bucket, Key=image.file.name)["Body"].read()
    assert image.file.name.startswith(f"gallery/{owner.public_id}/images/")

    response = as_user(owner).get(f"/api/v1/images/{image.id}/file/")
    assert response.status_code == 302
    assert response["Cache-Control"] == "private, no-store"
    signed = response["Location"]
    query = parse_qs(urlsplit(signed).query)
    assert query["X-Amz-Expires"] == ["90"]
    fetched = httpx.get(signed)
    assert fetched.status_code == 200
    assert fetched.content == stored

    unsigned = signed.split("?", 1)[0]
    assert unsigned.startswith(s3_storage.endpoint_url)
    assert httpx.get(unsigned).status_code == 403
    tampered = signed.replace(image.file.name, image.thumbnail.name)
    assert httpx.get(tampered).status_code == 403

    download = as_user(owner).get(f"/api/v1/images/{image.id}/download/")
    attachment = httpx.get(download["Location"])
    assert attachment.status_code == 200
    assert attachment.headers["Content-Disposition"].startswith("attachment;")

    # Nobody else gets a URL at all.
    assert as_user(stranger).get(f"/api/v1/images/{image.id}/file/").status_code == 404


def test_list_responses_carry_presigned_thumbnail_urls(owner, s3_storage, as_user):
    image = make_image(owner)
    item = as_user(owner).get("/api/v1/images/").json()["results"][0]
    assert item["thumbnail_url"].startswith(s3_storage.endpoint_url)
    thumbnail = httpx.get(item["thumbnail_url"])
    assert thumbnail.status_code == 200
    assert thumbnail.content[:4] == b"RIFF"
    assert httpx.get(item["thumbnail_url"].split("?")[0]).status_code == 403
    assert image.thumbnail.name in item["thumbnail_url"]


def test_share_pages_and_deletion_work_on_s3(owner, s3_storage, as_user):
    image = make_image(owner)
    link = share_link_create(user=owner, image=image)
    shared = Client().get(f"/s/{share_link_token(link)}/{image.id}/file/")
    assert shared.status_code == 302
    assert httpx.get(shared["Location"]).status_code == 200

    assert as_user(owner).delete(f"/api/v1/images/{image.id}/").status_code == 204
    bucket = s3_storage.client()
    for key in (image.file.name, image.thumbnail.name):
        with pytest.raises(ClientError):
            bucket.head_object(Bucket=s3_storage.bucket, Key=key)
