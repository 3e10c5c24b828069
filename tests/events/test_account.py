"""An account's endpoints, events and delivery log go with it; its export lists the endpoints,
without their signing secrets."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from accounts import deletion
from accounts.exports import data_export_build, data_export_request
from events.models import Event, EventDelivery, EventEndpoint
from tests.events.factories import events_one_of_everything
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def test_the_export_lists_the_endpoints_without_their_secrets(owner):
    endpoint = events_one_of_everything(owner)
    export = data_export_request(user=owner)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    rows = json.loads(archive.read("events/endpoints.json"))
    assert [(row["id"], row["url"], row["description"]) for row in rows] == [
        (str(endpoint.id), endpoint.url, "My CI")
    ]
    assert sorted(rows[0]["event_types"]) == sorted(endpoint.event_types)
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert endpoint.secret.encode() not in everything
    assert endpoint.secret.removeprefix("whsec_").encode() not in everything


def test_deleting_an_account_erases_its_endpoints_events_and_deliveries(
    owner, other_user, django_capture_on_commit_callbacks
):
    events_one_of_everything(owner)
    theirs = events_one_of_everything(other_user)
    assert EventDelivery.objects.filter(owner=owner).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        deletion.account_deletion_request(user=owner, password=TEST_PASSWORD)

    for model in (Event, EventDelivery, EventEndpoint):
        assert not model.objects.filter(owner_id=owner.pk).exists(), model
    assert EventEndpoint.objects.get(owner=other_user) == theirs
    assert EventDelivery.objects.filter(owner=other_user).count() == 2
