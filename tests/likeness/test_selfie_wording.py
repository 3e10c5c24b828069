"""What people are told about faces and selfies is what happens: the consent box says an
average of the face stays with the model after the photos go; the privacy page says when a
selfie is deleted, with the configured hours."""

from __future__ import annotations

import pytest
from django.urls import reverse

from trainings.forms import FACE_CONSENT_HELP

pytestmark = pytest.mark.django_db


def test_the_consent_box_says_the_models_average_face_outlives_the_photos():
    assert "deleted with the photos, except an average of your face" in FACE_CONSENT_HELP
    assert "stays with the model until you delete it" in FACE_CONSENT_HELP
    assert "Without consent, no face is described" in FACE_CONSENT_HELP


def test_the_privacy_page_says_when_the_selfie_is_deleted(client, settings):
    settings.SELFIE_KEEP_HOURS = 36
    page = client.get("/privacy/").content.decode()
    faces = page[page.index('id="faces"') :]

    assert "We delete it as soon as that check is decided, or 36 hours after you took it" in faces
    assert "never the picture" in faces
    assert "stays with the model after the photos are deleted" in faces


def test_the_model_page_says_how_long_an_unused_selfie_is_kept(owner, client, settings):
    from tests.trainings.journey import draft_model

    settings.LIKENESS_SELFIE_REQUIRED = True
    settings.SELFIE_KEEP_HOURS = 36
    lora_model = draft_model(owner, trigger_word="WORDINGZX")
    client.force_login(owner)

    page = client.get(reverse("trainings:model", kwargs={"model_id": lora_model.pk}))

    assert "or after 36 hours if you do not start a training" in page.content.decode()
