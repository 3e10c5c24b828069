"""Images through the API: the list (cursor pagination, filters, constant queries), detail,
favourite, delete, files, bulk actions, zip, avatar; always scoped to the owner."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from gallery.models import Collection, GeneratedImage
from gallery.services import collection_create, collection_images_add
from tests.gallery.factories import make_generation, make_image

pytestmark = pytest.mark.django_db

URL = "/api/v1/images/"


def _ids(response):
    return [item["id"] for item in response.json()["results"]]


def test_the_list_is_newest_first_with_thumbnails_and_a_cursor(owner, other_user, as_user):
    now = timezone.now()
    images = [make_image(owner, created_at=now - timedelta(minutes=n)) for n in range(5)]
    make_image(other_user)
    client = as_user(owner)
    first = client.get(URL, {"page_size": 2})
    assert first.status_code == 200
    assert _ids(first) == [str(images[0].id), str(images[1].id)]
    item = first.json()["results"][0]
    assert item["thumbnail_url"] == f"http://testserver{URL}{images[0].id}/thumbnail/"
    assert item["placeholder_color"].startswith("#")
    assert item["placeholder"].startswith("data:image/webp;base64,")
    assert item["width"] == 96 and item["format"] == "webp"
    assert "cursor=" in first.json()["next"]
    second = client.get(first.json()["next"])
    assert _ids(second) == [str(images[2].id), str(images[3].id)]
    third = client.get(second.json()["next"])
    assert _ids(third) == [str(images[4].id)]
    assert third.json()["next"] is None


def test_a_page_costs_the_same_queries_whatever_its_size(owner, as_user):
    lora_generation = make_generation(owner)
    for index in range(12):
        make_image(owner, generation=lora_generation if index % 2 else None, index=index)
    client = as_user(owner)
    counts = []
    for size in (2, 12):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(URL, {"page_size": size})
        assert len(response.json()["results"]) == size
        counts.append(len(queries))
        sql = " ".join(query["sql"].upper() for query in queries.captured_queries)
        assert "OFFSET" not in sql
    assert counts[0] == counts[1], counts


def test_the_list_query_count_is_pinned(owner, as_user, django_assert_num_queries):
    for index in range(6):
        make_image(owner, index=index)
    client = as_user(owner)
    client.get(URL)  # warm-up: content types, plans
    # The user (JWT) and the page, whatever its size.
    with django_assert_num_queries(2):
        client.get(URL, {"page_size": 3})
    with django_assert_num_queries(2):
        client.get(URL, {"page_size": 6})


def test_filters_model_collection_favourite_dates_and_status(owner, lora, as_user):
    now = timezone.now()
    default_image = make_image(owner, created_at=now - timedelta(days=3))
    lora_image = make_image(owner, generation=make_generation(owner, lora_model=lora))
    favourite = make_image(owner, is_favourite=True, created_at=now - timedelta(days=1))
    pending = make_image(owner, moderation=GeneratedImage.Moderation.PENDING)
    rejected = make_image(owner, moderation=GeneratedImage.Moderation.REJECTED)
    collection = collection_create(user=owner, name="Beach")
    collection_images_add(collection=collection, images=[default_image, favourite])
    client = as_user(owner)

    everything = client.get(URL)
    assert set(_ids(everything)) == {str(i.id) for i in (default_image, lora_image, favourite)}
    assert _ids(client.get(URL, {"model": str(lora.id)})) == [str(lora_image.id)]
    assert str(lora_image.id) not in _ids(client.get(URL, {"model": "default"}))
    assert set(_ids(client.get(URL, {"collection": str(collection.id)}))) == {
        str(default_image.id),
        str(favourite.id),
    }
    assert _ids(client.get(URL, {"favourite": "true"})) == [str(favourite.id)]
    day = (now - timedelta(days=3)).date().isoformat()
    assert _ids(client.get(URL, {"created_from": day, "created_to": day})) == [
        str(default_image.id)
    ]
    assert _ids(client.get(URL, {"status": "pending"})) == [str(pending.id)]
    hidden = client.get(URL, {"status": "rejected"}).json()["results"][0]
    assert hidden["id"] == str(rejected.id)
    assert hidden["thumbnail_url"] is None and hidden["url"] is None
    assert len(_ids(client.get(URL, {"status": "all"}))) == 5


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"model": "nope"}, "model"),
        ({"collection": "nope"}, "collection"),
        ({"created_from": "yesterday"}, "created_from"),
        ({"created_from": "2026-02-02", "created_to": "2026-02-01"}, "created_to"),
        ({"status": "deleted"}, "status"),
    ],
)
def test_bad_filters_are_400_with_the_field_named(owner, as_user, query, field):
    response = as_user(owner).get(URL, query)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_another_users_collection_filter_shows_nothing(owner, stranger, as_user):
    image = make_image(stranger)
    theirs = collection_create(user=stranger, name="Theirs")
    collection_images_add(collection=theirs, images=[image])
    assert _ids(as_user(owner).get(URL, {"collection": str(theirs.id)})) == []


def test_detail_has_every_parameter_and_the_collections(owner, as_user):
    image = make_image(owner)
    collection = collection_create(user=owner, name="Beach")
    collection_images_add(collection=collection, images=[image])
    body = as_user(owner).get(f"{URL}{image.id}/").json()
    assert body["generation"]["prompt"] == "a portrait on a beach"
    assert body["generation"]["parameters"]["num_outputs"] == 1
    assert body["collections"] == [str(collection.id)]
    assert body["download_url"].endswith(f"/images/{image.id}/download/")


def test_the_owner_gets_the_files_with_their_media_type(owner, as_user):
    image = make_image(owner, fmt="PNG")
    client = as_user(owner)
    original = client.get(f"{URL}{image.id}/file/")
    assert original.status_code == 200
    assert original["Content-Type"] == "image/png"
    content = b"".join(original.streaming_content)
    with Image.open(io.BytesIO(content)) as opened:
        assert "trainedAlgorithmicMedia" in opened.info["XML:com.adobe.xmp"]
    thumbnail = client.get(f"{URL}{image.id}/thumbnail/")
    assert thumbnail["Content-Type"] == "image/webp"
    download = client.get(f"{URL}{image.id}/download/")
    assert download["Content-Disposition"].startswith("attachment;")
    assert f"avatars-{image.id}.png" in download["Content-Disposition"]


def test_hidden_images_have_no_file_even_for_their_owner(owner, as_user):
    image = make_image(owner, moderation=GeneratedImage.Moderation.PENDING)
    client = as_user(owner)
    for path in ("file/", "thumbnail/", "download/"):
        assert client.get(f"{URL}{image.id}/{path}").status_code == 404


def test_favourite_and_unfavourite(owner, as_user):
    image = make_image(owner)
    client = as_user(owner)
    assert client.post(f"{URL}{image.id}/favourite/").json()["is_favourite"] is True
    image.refresh_from_db()
    assert image.is_favourite
    assert client.delete(f"{URL}{image.id}/favourite/").json()["is_favourite"] is False
    image.refresh_from_db()
    assert not image.is_favourite


def test_delete_removes_the_file_and_the_thumbnail(owner, as_user):
    image = make_image(owner)
    names = (image.file.name, image.thumbnail.name)
    assert all(default_storage.exists(name) for name in names)
    response = as_user(owner).delete(f"{URL}{image.id}/")
    assert response.status_code == 204
    assert not GeneratedImage.objects.filter(pk=image.pk).exists()
    assert not any(default_storage.exists(name) for name in names)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", ""),
        ("delete", ""),
        ("post", "favourite/"),
        ("delete", "favourite/"),
        ("get", "file/"),
        ("get", "thumbnail/"),
        ("get", "download/"),
        ("post", "avatar/"),
    ],
)
def test_another_users_image_is_404_and_anonymous_401(owner, stranger, as_user, api, method, path):
    image = make_image(owner)
    response = getattr(as_user(stranger), method)(f"{URL}{image.id}/{path}")
    assert response.status_code == 404
    assert getattr(api, method)(f"{URL}{image.id}/{path}").status_code == 401
    image.refresh_from_db()
    assert not image.is_favourite
    assert default_storage.exists(image.file.name)
    assert as_user(owner).get(f"{URL}{image.id}/").status_code == 200


def test_bulk_actions_touch_only_the_users_images(owner, stranger, as_user):
    mine = [make_image(owner, index=0), make_image(owner, index=0)]
    theirs = make_image(stranger)
    collection = collection_create(user=owner, name="Trip")
    other = collection_create(user=owner, name="Other")
    client = as_user(owner)
    ids = [str(mine[0].id), str(mine[1].id), str(theirs.id)]

    response = client.post(
        f"{URL}bulk/", {"action": "add", "image_ids": ids, "collection": str(collection.id)}
    )
    assert response.json() == {"count": 2}
    assert collection.images.count() == 2
    response = client.post(
        f"{URL}bulk/",
        {
            "action": "move",
            "image_ids": ids[:1],
            "collection": str(other.id),
            "from_collection": str(collection.id),
        },
    )
    assert response.json() == {"count": 1}
    assert list(other.images.all()) == [mine[0]]
    assert list(collection.images.all()) == [mine[1]]
    assert client.post(f"{URL}bulk/", {"action": "favourite", "image_ids": ids}).json() == {
        "count": 2
    }
    theirs.refresh_from_db()
    assert not theirs.is_favourite
    assert client.post(f"{URL}bulk/", {"action": "delete", "image_ids": ids}).json() == {"count": 2}
    assert GeneratedImage.objects.filter(owner=owner).count() == 0
    assert GeneratedImage.objects.filter(pk=theirs.pk).exists()


def test_bulk_input_errors_name_the_field(owner, stranger, as_user):
    image = make_image(owner)
    client = as_user(owner)
    bad = client.post(f"{URL}bulk/", {"action": "explode", "image_ids": [str(image.id)]})
    assert "action" in bad.json()["errors"]
    missing = client.post(f"{URL}bulk/", {"action": "move", "image_ids": [str(image.id)]})
    assert "collection" in missing.json()["errors"]
    theirs = collection_create(user=stranger, name="Theirs")
    foreign = client.post(
        f"{URL}bulk/", {"action": "add", "image_ids": [str(image.id)], "collection": str(theirs.id)}
    )
    assert foreign.status_code == 400 and "collection" in foreign.json()["errors"]
    assert not theirs.images.exists()


def test_zip_has_the_users_images_and_their_metadata(owner, stranger, as_user):
    mine = [make_image(owner), make_image(owner, fmt="JPEG")]
    theirs = make_image(stranger)
    response = as_user(owner).post(
        f"{URL}zip/", {"image_ids": [str(i.id) for i in (*mine, theirs)]}
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    names = set(archive.namelist())
    assert names == {f"{mine[0].id}.webp", f"{mine[1].id}.jpg", "metadata.json"}
    assert b"trainedAlgorithmicMedia" in archive.read(f"{mine[1].id}.jpg")
    only_theirs = as_user(owner).post(f"{URL}zip/", {"image_ids": [str(theirs.id)]})
    assert only_theirs.status_code == 400 and "image_ids" in only_theirs.json()["errors"]


def test_an_image_becomes_the_profile_picture(owner, as_user):
    image = make_image(owner)
    response = as_user(owner).post(f"{URL}{image.id}/avatar/")
    assert response.status_code == 200
    owner.refresh_from_db()
    assert owner.avatar.name.startswith(f"avatars/{owner.public_id}/")
    with default_storage.open(owner.avatar.name) as handle, Image.open(handle) as avatar:
        assert avatar.size == (256, 256)


def test_collections_crud_and_counts(owner, stranger, as_user, api):
    client = as_user(owner)
    created = client.post("/api/v1/collections/", {"name": "Campaign A", "description": "Ads"})
    assert created.status_code == 201
    collection_id = created.json()["id"]
    duplicate = client.post("/api/v1/collections/", {"name": "campaign a"})
    assert duplicate.status_code == 400 and "name" in duplicate.json()["errors"]
    assert "name" in client.post("/api/v1/collections/", {}).json()["errors"]
    images = [make_image(owner), make_image(owner, is_favourite=True)]
    added = client.post(
        f"/api/v1/collections/{collection_id}/images/",
        {"image_ids": [str(i.id) for i in images]},
    )
    assert added.json()["image_count"] == 2 and added.json()["favourite_count"] == 1
    removed = client.delete(
        f"/api/v1/collections/{collection_id}/images/", {"image_ids": [str(images[0].id)]}
    )
    assert removed.json()["image_count"] == 1
    renamed = client.patch(f"/api/v1/collections/{collection_id}/", {"name": "Campaign B"})
    assert renamed.json()["name"] == "Campaign B"
    assert [c["id"] for c in client.get("/api/v1/collections/").json()["results"]] == [
        collection_id
    ]

    other = as_user(stranger)
    for method, path in [
        ("get", ""),
        ("patch", ""),
        ("delete", ""),
        ("post", "images/"),
        ("delete", "images/"),
    ]:
        url = f"/api/v1/collections/{collection_id}/{path}"
        assert getattr(other, method)(url, {"image_ids": [str(images[0].id)]}).status_code == 404
        assert getattr(api, method)(url).status_code == 401
    assert other.get("/api/v1/collections/").json()["results"] == []
    foreign_image = make_image(stranger)
    refused = client.post(
        f"/api/v1/collections/{collection_id}/images/", {"image_ids": [str(foreign_image.id)]}
    )
    assert refused.status_code == 400 and "image_ids" in refused.json()["errors"]

    assert client.delete(f"/api/v1/collections/{collection_id}/").status_code == 204
    assert not Collection.objects.exists()
    assert GeneratedImage.objects.filter(owner=owner).count() == 2  # the images stay


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/images/"),
        ("post", "/api/v1/images/bulk/"),
        ("post", "/api/v1/images/zip/"),
        ("get", "/api/v1/collections/"),
        ("post", "/api/v1/collections/"),
        ("post", "/api/v1/share-links/"),
        ("get", "/api/v1/generations/00000000-0000-0000-0000-000000000000/"),
        ("post", "/api/v1/generations/00000000-0000-0000-0000-000000000000/cancel/"),
    ],
)
def test_anonymous_requests_are_401(api, method, path):
    response = getattr(api, method)(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_a_cursor_that_cannot_be_decoded_is_a_400_naming_it(owner, as_user):
    make_image(owner)
    response = as_user(owner).get(URL, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["errors"]) == ["cursor"]


def test_the_schema_documents_the_gallery_lists_as_pages(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    components = schema["components"]["schemas"]
    for path in ("images/", "generations/", "collections/", "share-links/"):
        operation = schema["paths"][f"/api/v1/{path}"]["get"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        page = components[ref.rsplit("/", 1)[1]]
        assert {"next", "previous", "results"} <= set(page["properties"]), path
        assert page["properties"]["results"]["type"] == "array", path
        assert {"cursor", "page_size"} <= {p["name"] for p in operation["parameters"]}, path
