"""The owner sees what was decided about their identity, and how: on the model's page, in the
API (`decided_by`: automatic or moderator, never which moderator) and in their data export
(the check's record, never the selfie)."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.exports import data_export_build, data_export_request
from likeness.models import IdentityCheck
from tests import people
from tests.trainings.journey import draft_model as journey_model

pytestmark = pytest.mark.django_db

Outcome = IdentityCheck.Outcome
_words = iter(f"DECIDE{letter}{other}" for letter in "BCDFGH" for other in "KLMNPRSTVZ")


def draft_model(user):
    return journey_model(user, trigger_word=next(_words))


DECIDED_AT = datetime.fromisoformat("2026-03-04T10:00:00+00:00")


def _check(lora_model, outcome, *, decided_by=None, selfie=False, **fields) -> IdentityCheck:
    check = IdentityCheck(lora_model=lora_model, outcome=outcome, decided_by=decided_by, **fields)
    if outcome in IdentityCheck.DECIDED:
        check.decided_at = DECIDED_AT
    if selfie:
        check.selfie.name = default_storage.save(
            f"datasets/{lora_model.owner.public_id}/selfies/{check.id}.jpg",
            ContentFile(people.jpeg_bytes(people.owner(4))),
        )
    check.save()
    return check


@pytest.mark.parametrize(
    ("outcome", "moderated", "said"),
    [
        (Outcome.MATCHED, False, "Identity confirmed automatically on 4 March 2026"),
        (Outcome.APPROVED, True, "Identity confirmed by a moderator on 4 March 2026"),
        (Outcome.WAITING, False, "Waiting for a moderator: Your selfie is a copy"),
    ],
)
def test_the_model_page_says_what_was_decided(
    outcome, moderated, said, owner, moderator, client, settings
):
    settings.LIKENESS_SELFIE_REQUIRED = True
    lora_model = draft_model(owner)
    _check(
        lora_model,
        outcome,
        decided_by=moderator if moderated else None,
        distance=None if moderated else 0.31,
        reason="your selfie is a copy of one of your dataset photos, not a photo taken now.",
    )
    client.force_login(owner)

    page = client.get(reverse("trainings:model", kwargs={"model_id": lora_model.pk}))

    content = page.content.decode()
    assert said in content
    assert moderator.email not in content


def test_the_api_says_who_decided_without_naming_the_moderator(
    owner, other_user, moderator, api, as_user
):
    matched_model, approved_model, waiting_model = (draft_model(owner) for _ in range(3))
    _check(matched_model, Outcome.MATCHED, distance=0.31)
    _check(approved_model, Outcome.APPROVED, decided_by=moderator)
    _check(waiting_model, Outcome.WAITING, reason="no face was found in your selfie.")
    url = "/api/v1/models/{}/identity-check/"

    matched = as_user(owner).get(url.format(matched_model.pk))
    assert matched.status_code == 200, matched.content
    assert matched.json()["decided_by"] == "automatic"
    assert matched.json()["distance"] == 0.31
    assert matched.json()["decided_at"].startswith("2026-03-04T10:00:00")
    approved = as_user(owner).get(url.format(approved_model.pk)).json()
    assert approved["decided_by"] == "moderator"
    assert str(moderator.public_id) not in json.dumps(approved)
    assert moderator.email not in json.dumps(approved)
    waiting = as_user(owner).get(url.format(waiting_model.pk)).json()
    assert (waiting["decided_by"], waiting["decided_at"]) == (None, None)
    assert waiting["reason"] == "no face was found in your selfie."

    assert as_user(other_user).get(url.format(matched_model.pk)).status_code == 404
    assert api.get(url.format(matched_model.pk)).status_code == 401
    assert as_user(owner).get(url.format(draft_model(owner).pk)).status_code == 404


def test_the_export_holds_the_checks_but_no_selfie(owner, other_user, moderator):
    lora_model = draft_model(owner)
    matched = _check(lora_model, Outcome.MATCHED, distance=0.31)
    approved = _check(draft_model(owner), Outcome.APPROVED, decided_by=moderator, reason="Approved")
    taken = _check(draft_model(owner), Outcome.SELFIE_TAKEN, selfie=True, selfie_has_face=True)
    _check(draft_model(other_user), Outcome.MATCHED, distance=0.2)

    export = data_export_request(user=owner)
    data_export_build(export_id=export.pk)
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))

    models = json.loads(archive.read("trainings/models.json"))
    checks = {row["id"]: row for model in models for row in model["identity_checks"]}
    assert set(checks) == {str(matched.id), str(approved.id), str(taken.id)}
    assert checks[str(matched.id)]["decided_by"] == "automatic"
    assert checks[str(matched.id)]["distance"] == 0.31
    assert checks[str(matched.id)]["decided_at"].startswith("2026-03-04")
    assert checks[str(approved.id)]["decided_by"] == "moderator"
    assert checks[str(approved.id)]["outcome"] == "approved"
    assert checks[str(taken.id)]["decided_by"] is None
    # The record only: no selfie file, no moderator named.
    assert not any("selfie" in name for name in archive.namelist())
    assert all("selfie" not in row for row in checks.values())
    everything = b"".join(archive.read(name) for name in archive.namelist())
    assert moderator.email.encode() not in everything
    assert str(moderator.public_id).encode() not in everything
