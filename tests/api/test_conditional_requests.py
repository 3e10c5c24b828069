"""ETag / If-None-Match (304) on the API's reads, If-Match (412) on its changes
(core.conditional)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from accounts.services import user_avatar_set
from trainings.services import dataset_create

pytestmark = pytest.mark.django_db


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_detail_read_answers_304_while_it_has_not_changed(owner, as_user):
    client = as_user(owner)
    first = client.get("/api/v1/me/")
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and len(etag) == 34
    assert "Authorization" in first["Vary"]
    assert "private" in first["Cache-Control"]
    assert client.get("/api/v1/me/")["ETag"] == etag  # the same bytes, the same tag

    unchanged = client.get("/api/v1/me/", HTTP_IF_NONE_MATCH=etag)
    assert unchanged.status_code == 304
    assert unchanged.content == b""
    assert unchanged["ETag"] == etag
    # A weak form of the tag (as a proxy may send it back) and a list of tags match too.
    assert client.get("/api/v1/me/", HTTP_IF_NONE_MATCH=f'"x", W/{etag}').status_code == 304

    client.patch("/api/v1/me/", {"display_name": "New name"})
    changed = client.get("/api/v1/me/", HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed.json()["display_name"] == "New name"
    assert changed["ETag"] != etag


def test_a_list_read_answers_304_until_an_item_is_added(owner, as_user):
    client = as_user(owner)
    dataset_create(user=owner, name="One")
    first = client.get("/api/v1/datasets/")
    etag = first["ETag"]
    assert client.get("/api/v1/datasets/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    dataset_create(user=owner, name="Two")
    after = client.get("/api/v1/datasets/", HTTP_IF_NONE_MATCH=etag)
    assert after.status_code == 200
    assert len(after.json()["results"]) == 2


def test_another_users_tag_never_gives_a_304_of_their_data(owner, other_user, as_user):
    mine = as_user(owner).get("/api/v1/me/")["ETag"]
    theirs = as_user(other_user).get("/api/v1/me/", HTTP_IF_NONE_MATCH=mine)
    assert theirs.status_code == 200
    assert theirs.json()["email"] == other_user.email


def test_files_get_no_etag_from_the_api_layer(owner, as_user):
    user_avatar_set(user=owner, content=_png())
    response = as_user(owner).get("/api/v1/me/avatar/", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 200
    assert response.streaming
    assert not response.has_header("ETag")


def test_errors_get_no_etag(owner, stranger, as_user):
    dataset = dataset_create(user=owner, name="Mine")
    response = as_user(stranger).get(f"/api/v1/datasets/{dataset.id}/", HTTP_IF_NONE_MATCH="*")
    assert response.status_code == 404
    assert not response.has_header("ETag")


def test_a_change_with_a_stale_if_match_is_a_412_and_changes_nothing(owner, as_user):
    client = as_user(owner)
    etag = client.get("/api/v1/me/")["ETag"]
    updated = client.patch("/api/v1/me/", {"display_name": "First"}, HTTP_IF_MATCH=etag)
    assert updated.status_code == 200
    new_etag = updated["ETag"]
    assert new_etag != etag
    assert client.get("/api/v1/me/")["ETag"] == new_etag  # the answer's tag is the read's

    stale = client.patch("/api/v1/me/", {"display_name": "Second"}, HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert stale.json()["code"] == "precondition_failed"
    assert stale["ETag"] == new_etag
    owner.refresh_from_db()
    assert owner.display_name == "First"

    assert (
        client.patch("/api/v1/me/", {"display_name": "Third"}, HTTP_IF_MATCH="*").status_code == 200
    )
    assert client.patch("/api/v1/me/", {"display_name": "Fourth"}).status_code == 200  # optional
    owner.refresh_from_db()
    assert owner.display_name == "Fourth"


def test_if_match_on_a_dataset_and_on_someone_elses(owner, stranger, as_user):
    dataset = dataset_create(user=owner, name="Mine")
    url = f"/api/v1/datasets/{dataset.id}/"
    client = as_user(owner)
    etag = client.get(url)["ETag"]
    assert client.patch(url, {"name": "Renamed"}, HTTP_IF_MATCH=etag).status_code == 200
    assert client.patch(url, {"name": "Again"}, HTTP_IF_MATCH=etag).status_code == 412
    dataset.refresh_from_db()
    assert dataset.name == "Renamed"
    # A stranger learns nothing from If-Match: the same 404 as without it.
    refused = as_user(stranger).patch(url, {"name": "x"}, HTTP_IF_MATCH=etag)
    assert refused.status_code == 404
