"""Likeness of every output: scored against the model's face identity when it is stored, with
real photos of different people trained through the simulator (whose outputs are made from the
training photos); sorting and filtering by it in the API and the gallery; the batch's best
picture first; the score on the image's page."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.services import credits_grant
from core import replicate_gateway
from core.replicate_gateway import RemoteJob
from gallery.models import GeneratedImage, StarterPack, StarterPackItem
from gallery.selectors import starter_pack_for_model
from gallery.services import GenerationRequest, generation_create, generation_jobs
from likeness.faces import SAME_PERSON_DISTANCE, face_distance, faces_find
from likeness.models import ModelIdentity
from likeness.scoring import model_identity_update
from tests.gallery.factories import (
    TrainedVersion,
    make_generation,
    make_image,
    ready_lora_model,
)
from tests.people import mirrored, stranger
from tests.people import owner as owner_photo
from tests.photos import SCENES, source
from tests.replicate_sim.helpers import version_trained_on
from tests.simulator_fixtures import wait_until
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun
from trainings.services import training_run_jobs

pytestmark = pytest.mark.django_db

ASTRONAUT_PHOTOS = [owner_photo(index) for index in range(4)]
STRANGER_PHOTOS = [stranger(1), stranger(1, 512), mirrored(stranger(1))]


def _train(simulator, photos) -> TrainedVersion:
    name, version_id = version_trained_on(simulator, photos, name_prefix="likeness")
    return TrainedVersion(owner=simulator.owner, name=name, version_id=version_id)


@pytest.fixture(scope="module")
def astronaut_version(replicate_simulator):
    return _train(replicate_simulator, ASTRONAUT_PHOTOS)


@pytest.fixture(scope="module")
def stranger_version(replicate_simulator):
    return _train(replicate_simulator, STRANGER_PHOTOS)


def _dataset(user, photos, *, consent=True) -> Dataset:
    """A dataset of ready photos with their faces, as the worker stores them."""
    dataset = Dataset.objects.create(
        owner=user, name="Me", face_consent_at=timezone.now() if consent else None
    )
    for number, photo in enumerate(photos):
        DatasetImage.objects.create(
            dataset=dataset,
            original_name=f"{number}.jpg",
            status="ready",
            faces=[face.as_json() for face in faces_find(photo)] if consent else [],
            faces_checked_at=timezone.now() if consent else None,
        )
    return dataset


def _generate(user, lora_model, capture, *, seed: int, outputs: int = 2):
    """Generate through the simulator and store the outputs (what the webhook's task does)."""
    credits_grant(user=user, amount=100, reason="Test credits")
    asked = GenerationRequest(
        prompt="a portrait on a beach at sunset",
        parameters={"num_outputs": outputs, "seed": seed, "aspect_ratio": "1:1"},
    )
    with capture(execute=True):  # the generation is sent once its request has committed
        (generation,) = generation_create(user=user, lora_model=lora_model, asked=asked)
    generation.refresh_from_db()
    assert generation.replicate_id, (generation.status, generation.error_message)
    wait_until(
        lambda: replicate_gateway.prediction_get(prediction_id=generation.replicate_id).is_terminal,
        message="the prediction did not finish",
    )
    finished = generation_jobs.refresh(replicate_id=generation.replicate_id)
    assert finished.status == "succeeded", finished.error_message
    return list(finished.images.order_by("index"))


def test_the_owners_model_scores_her_pictures_far_above_another_persons_model(
    owner,
    other_user,
    astronaut_version,
    stranger_version,
    replicate_backend,
    django_capture_on_commit_callbacks,
):
    mine = ready_lora_model(owner, astronaut_version, trigger_word="ZORVEK", name="Me")
    assert model_identity_update(lora_model=mine, dataset=_dataset(owner, ASTRONAUT_PHOTOS))
    # Someone trained a model on another person's photos: its pictures are compared with the
    # account owner's identity (the astronaut's), and look nothing like her.
    theirs = ready_lora_model(other_user, stranger_version, trigger_word="KAVIRO", name="Theirs")
    ModelIdentity.objects.create(lora_model=theirs, vector=mine.identity.vector, photo_count=4)

    my_images = _generate(owner, mine, django_capture_on_commit_callbacks, seed=11)
    their_images = _generate(other_user, theirs, django_capture_on_commit_callbacks, seed=11)

    assert [image.has_face for image in my_images + their_images] == [True] * 4
    assert all(image.likeness >= 70 for image in my_images), [i.likeness for i in my_images]
    assert all(image.likeness <= 30 for image in their_images), [i.likeness for i in their_images]


def test_a_model_without_a_face_identity_leaves_its_pictures_unscored(
    owner, astronaut_version, replicate_backend, django_capture_on_commit_callbacks
):
    lora = ready_lora_model(owner, astronaut_version, trigger_word="ZORVEK", name="Me")
    # No consent to face processing: no identity is kept, whatever the photos show.
    assert (
        model_identity_update(
            lora_model=lora, dataset=_dataset(owner, ASTRONAUT_PHOTOS[:2], consent=False)
        )
        is None
    )
    (image,) = _generate(owner, lora, django_capture_on_commit_callbacks, seed=3, outputs=1)
    assert (image.likeness, image.has_face) == (None, None)


@pytest.fixture(scope="module")
def faceless_version(replicate_simulator):
    """A version trained on scenes without a person: its outputs are made from them."""
    return _train(replicate_simulator, [source(name).resize((640, 640)) for name in SCENES[:2]])


def test_a_stored_output_without_a_face_is_marked_no_face_and_left_unscored(
    owner, faceless_version, replicate_backend, django_capture_on_commit_callbacks
):
    lora = ready_lora_model(owner, faceless_version, trigger_word="ZORVEK", name="Me")
    # An identity to compare with, so the output is looked at for faces (without one it is not).
    assert model_identity_update(lora_model=lora, dataset=_dataset(owner, ASTRONAUT_PHOTOS[:2]))

    (image,) = _generate(owner, lora, django_capture_on_commit_callbacks, seed=5, outputs=1)

    assert image.file and image.width and image.height  # stored by the real output pipeline
    assert (image.has_face, image.likeness) == (False, None)
    page = _web(owner).get(f"/gallery/images/{image.id}/").content.decode()
    assert "No face found" in page and "Likeness" not in page


def test_training_again_without_consent_forgets_the_old_identity(owner):
    lora = ready_lora_model(owner, None, trigger_word="ZORVEK", name="Me")
    identity = model_identity_update(lora_model=lora, dataset=_dataset(owner, ASTRONAUT_PHOTOS[:2]))
    assert identity.photo_count == 2 and len(identity.vector) == 128
    assert (
        model_identity_update(lora_model=lora, dataset=_dataset(owner, [], consent=False)) is None
    )
    assert not ModelIdentity.objects.filter(lora_model=lora).exists()


@pytest.mark.parametrize("consent", [True, False])
def test_a_successful_training_keeps_the_identity_of_its_photos_only_with_consent(
    owner, consent, django_capture_on_commit_callbacks
):
    dataset = _dataset(owner, ASTRONAUT_PHOTOS[:3], consent=consent)
    lora = LoraModel.objects.create(
        owner=owner,
        name="Me",
        trigger_word="ZORVAK",
        replicate_owner="avatars",
        replicate_name="zorvak-1",
        status=LoraModel.Status.TRAINING,
    )
    TrainingRun.objects.create(
        owner=owner,
        dataset=dataset,
        lora_model=lora,
        status=TrainingRun.Status.PROCESSING,
        replicate_id="tr_likeness",
        total_steps=1000,
        parameters={"steps": 1000},
    )
    output = {"version": f"avatars/zorvak-1:{'b' * 64}", "weights": "https://x/w.tar"}
    with django_capture_on_commit_callbacks(execute=True):
        training_run_jobs.apply_remote(
            remote=RemoteJob(id="tr_likeness", status="succeeded", output=output)
        )
    identity = ModelIdentity.objects.filter(lora_model=lora).first()
    if consent:
        assert identity.photo_count == 3
        her = faces_find(owner_photo(4))[0]
        assert face_distance(her, identity.vector) < SAME_PERSON_DISTANCE / 2
    else:
        assert identity is None


# --- Sorting and filtering ---------------------------------------------------------------------


def _scored_images(user):
    """Six pictures, newest last: likeness 90, none (no face), 40, 75, not scored, 90."""
    base = timezone.now()
    values = [(90, True), (None, False), (40, True), (75, True), (None, None), (90, True)]
    return [
        make_image(
            user,
            created_at=base - timezone.timedelta(minutes=10 - number),
            likeness=likeness,
            has_face=has_face,
        )
        for number, (likeness, has_face) in enumerate(values)
    ]


def _best_first(images):
    ordered = sorted(images, key=lambda image: image.created_at, reverse=True)
    return sorted(
        ordered, key=lambda image: -1 if image.likeness is None else image.likeness, reverse=True
    )


def test_the_api_sorts_by_likeness_across_pages_with_a_constant_query_count(owner, as_user):
    images = _scored_images(owner)
    client = as_user(owner)
    url, seen, query_counts = "/api/v1/images/?ordering=-likeness&page_size=2", [], []
    while url:
        with CaptureQueriesContext(connection) as queries:
            body = client.get(url).json()
        query_counts.append(len(queries))
        seen += body["results"]
        url = body["next"]
    assert [item["id"] for item in seen] == [str(image.id) for image in _best_first(images)]
    assert [item["likeness"] for item in seen] == [90, 90, 75, 40, None, None]
    # Not scored and no face tie: newest first.
    assert seen[-2]["has_face"] is None and seen[-1]["has_face"] is False
    assert len(set(query_counts)) == 1, query_counts

    looks_like_me = client.get("/api/v1/images/?looks_like_me=true&ordering=-likeness").json()
    assert [item["likeness"] for item in looks_like_me["results"]] == [90, 90, 75]
    newest = client.get("/api/v1/images/").json()["results"]
    assert newest[0]["id"] == str(images[-1].id) and newest[1]["likeness"] is None


def test_the_api_refuses_an_unknown_ordering_and_a_forged_cursor(owner, as_user):
    client = as_user(owner)
    response = client.get("/api/v1/images/?ordering=likeness")
    assert response.status_code == 400 and "ordering" in response.json()["errors"]
    for position in ("abc", "9" * 30):
        forged = base64.b64encode(f"p={position}".encode()).decode()
        response = client.get("/api/v1/images/", {"ordering": "-likeness", "cursor": forged})
        assert response.status_code == 404, position


def test_the_gallery_grid_starts_over_on_a_forged_cursor(owner):
    image = make_image(owner, likeness=80, has_face=True)
    forged = base64.urlsafe_b64encode(json.dumps([10**30, str(image.id)]).encode()).decode()
    response = _web(owner).get("/gallery/", {"sort": "likeness", "cursor": forged})
    assert response.status_code == 200
    assert f'id="image-{image.id}"' in response.content.decode()


def test_another_users_pictures_never_appear_in_the_likeness_sort(owner, other_user, as_user):
    _scored_images(other_user)
    body = as_user(owner).get("/api/v1/images/?ordering=-likeness").json()
    assert body["results"] == []


def _web(user) -> Client:
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
    client = Client()
    client.force_login(user)
    return client


def test_the_gallery_grid_shows_best_likeness_first_page_after_page(owner, settings):
    settings.GALLERY_PAGE_SIZE = 4
    images = _scored_images(owner)
    client = _web(owner)
    first = client.get("/gallery/?sort=likeness")
    assert first.status_code == 200
    page = first.content.decode()
    expected = [str(image.id) for image in _best_first(images)]
    positions = [page.index(f'id="image-{image_id}"') for image_id in expected[:4]]
    assert positions == sorted(positions)
    assert all(f'id="image-{image_id}"' not in page for image_id in expected[4:])
    next_url = first.context["next_url"]
    rest = client.get(next_url, HTTP_HX_REQUEST="true").content.decode()
    positions = [rest.index(f'id="image-{image_id}"') for image_id in expected[4:]]
    assert positions == sorted(positions)
    assert "Best likeness first" in page

    filtered = client.get("/gallery/?sort=likeness&looks_like_me=on").content.decode()
    assert filtered.count('class="thumb"') == 3


def test_the_generation_page_shows_the_best_picture_first_and_the_image_page_its_score(owner):
    generation = make_generation(owner, parameters={"num_outputs": 3})
    low = make_image(owner, generation=generation, index=0, likeness=35, has_face=True)
    best = make_image(owner, generation=generation, index=1, likeness=87, has_face=True)
    faceless = make_image(owner, generation=generation, index=2, has_face=False)
    client = _web(owner)
    page = client.get(f"/generations/{generation.id}/").content.decode()
    assert f'data-best-image="{best.id}"' in page
    assert page.index(f'data-image="{best.id}"') < page.index(f'data-image="{low.id}"')
    assert page.index(f'data-image="{low.id}"') < page.index(f'data-image="{faceless.id}"')

    assert "Likeness 87/100" in client.get(f"/gallery/images/{best.id}/").content.decode()
    assert "No face found" in client.get(f"/gallery/images/{faceless.id}/").content.decode()
    unscored = make_image(owner)
    text = client.get(f"/gallery/images/{unscored.id}/").content.decode()
    assert "Likeness" not in text and "No face found" not in text
    assert GeneratedImage.objects.get(pk=unscored.pk).likeness is None


def test_the_picture_viewer_steps_through_the_best_likeness_list(owner):
    images = _best_first(_scored_images(owner))
    client = _web(owner)
    second = client.get(f"/gallery/images/{images[1].id}/?sort=likeness")
    assert second.context["previous_url"].startswith(f"/gallery/images/{images[0].id}/")
    assert second.context["next_url"].startswith(f"/gallery/images/{images[2].id}/")
    assert "sort=likeness" in second.context["next_url"]


def test_use_these_settings_again_takes_the_batch_request_that_looks_most_like_its_owner(owner):
    batch_id = uuid.uuid4()
    first = make_generation(owner, batch_id=batch_id, batch_index=0, seed=100)
    second = make_generation(owner, batch_id=batch_id, batch_index=1, seed=101)
    make_image(owner, generation=first, likeness=52, has_face=True)
    best = make_image(owner, generation=second, likeness=91, has_face=True)
    page = _web(owner).get(f"/generations/{first.id}/").content.decode()
    assert f'data-best-image="{best.id}"' in page
    assert f"?from={second.id}" in page and f"?from={first.id}" not in page


def test_the_starter_pack_shows_the_picture_of_each_style_that_looks_most_like_its_owner(owner):
    lora = ready_lora_model(owner, None, trigger_word="ZORVEK", name="Me")
    generation = make_generation(owner, lora_model=lora, parameters={"num_outputs": 2})
    make_image(owner, generation=generation, index=0, likeness=30, has_face=True)
    best = make_image(owner, generation=generation, index=1, likeness=88, has_face=True)
    pack = StarterPack.objects.create(lora_model=lora, owner=owner, finished_at=timezone.now())
    StarterPackItem.objects.create(pack=pack, style_name="Studio", generation=generation)
    (row,) = starter_pack_for_model(user=owner, model=lora).rows
    assert (row.state, row.image) == ("done", best)
