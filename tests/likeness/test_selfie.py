"""The consent selfie before a model's first training, with real photos: the owner's selfie
lets the training start; a stranger's, one without a face, or a dataset without face consent
hold it (credits reserved, nothing sent to Replicate) for a moderator."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from django.utils import timezone

from accounts.deletion import account_erase
from accounts.selectors import credit_balance
from core.exceptions import DomainError
from likeness.faces import SAME_PERSON_DISTANCE
from likeness.models import IdentityCheck
from likeness.services import selfie_take
from tests.likeness.selfie_fixtures import (
    CREDITS,
    faceless_selfie,
    first_training_fixture,  # noqa: F401 (fixture)
    owner_dataset,
    owner_selfie,
    selfie_required_fixture,  # noqa: F401 (fixture)
    start,
    stranger_selfie,
    trainings_on_replicate,
)
from tests.trainings.journey import draft_model
from trainings.models import TrainingRun
from trainings.services import TrainingParameters, training_run_jobs

pytestmark = pytest.mark.django_db

Outcome = IdentityCheck.Outcome


def test_a_first_training_without_a_selfie_is_refused_with_the_field_named(
    owner, first_training, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    with pytest.raises(DomainError) as refused:
        start(
            owner,
            lora_model=lora_model,
            dataset=dataset,
            capture=django_capture_on_commit_callbacks,
        )
    assert (refused.value.code, refused.value.field) == ("selfie_required", "selfie")
    assert not TrainingRun.objects.exists()
    assert credit_balance(user=owner) == CREDITS


def test_the_owners_selfie_matches_and_the_training_starts(
    owner, first_training, replicate_backend, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    stored = check.selfie.name
    assert stored.startswith(f"datasets/{owner.public_id}/selfies/")
    assert default_storage.exists(stored)

    run = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )

    run.refresh_from_db()
    assert run.replicate_id  # sent to the trainer
    assert trainings_on_replicate(replicate_backend, lora_model=lora_model) == 1
    check.refresh_from_db()
    assert check.outcome == Outcome.MATCHED and check.training_run_id == run.pk
    assert check.distance < SAME_PERSON_DISTANCE and check.decided_at is not None
    assert check.decided_by is None
    # Only the record remains: the file is gone.
    assert not check.selfie
    assert not default_storage.exists(stored)


def test_a_strangers_selfie_holds_the_training_for_a_person(
    owner, client, as_user, first_training, replicate_backend, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=stranger_selfie(2))

    run = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED
    assert run.replicate_id is None and run.submit_fingerprint == ""  # nothing was sent
    assert trainings_on_replicate(replicate_backend, lora_model=lora_model) == 0
    assert credit_balance(user=owner) == CREDITS - run.cost_estimate  # reserved as usual
    check.refresh_from_db()
    assert check.outcome == Outcome.WAITING and check.training_run_id == run.pk
    assert check.distance >= SAME_PERSON_DISTANCE
    assert check.selfie and default_storage.exists(check.selfie.name)  # kept for the moderator

    client.force_login(owner)
    page = client.get(reverse("trainings:run", kwargs={"run_id": run.pk})).content.decode()
    assert "Waiting for a person to check that the photos are of you" in page
    assert "does not look enough like the person" in page
    # The API says so too, in the run and in the list of runs.
    for body in (
        as_user(owner).get(f"/api/v1/trainings/{run.pk}/").json(),
        as_user(owner).get("/api/v1/trainings/").json()["results"][0],
    ):
        assert "does not look enough like the person" in body["waiting_for_review"]

    # Reconciliation, which sends queued runs whose task was lost, leaves a held run alone.
    TrainingRun.objects.filter(pk=run.pk).update(last_event_at=timezone.now() - timedelta(hours=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert training_run_jobs.reconcile(quiet_for=timedelta(seconds=1)) == 0
    # And a submission task that runs all the same sends nothing.
    training_run_jobs.submit(job_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED and run.replicate_id is None
    assert trainings_on_replicate(replicate_backend, lora_model=lora_model) == 0


def test_without_face_consent_even_the_owners_selfie_waits_for_a_person(
    owner, selfie_required, django_capture_on_commit_callbacks
):
    from accounts.services import credits_grant

    credits_grant(user=owner, amount=CREDITS, reason="test credits")
    lora_model, dataset = draft_model(owner), owner_dataset(owner, consent=False)
    selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())

    run = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )

    run.refresh_from_db()
    assert run.status == TrainingRun.Status.QUEUED and run.replicate_id is None
    check = IdentityCheck.objects.get(training_run=run)
    assert check.outcome == Outcome.WAITING and check.distance is None
    assert "no consent to face processing" in check.reason


def test_a_selfie_without_a_face_is_refused_a_few_times_then_kept_for_a_person(
    owner, as_user, first_training, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    url = f"/api/v1/models/{lora_model.pk}/selfie/"
    api = as_user(owner)
    for _ in range(2):
        refused = api.post(url, {"selfie": faceless_selfie()}, format="multipart")
        assert refused.status_code == 400, refused.content
        assert refused.json()["code"] == "selfie_no_face"
        assert "selfie" in refused.json()["errors"]
    assert not IdentityCheck.objects.exists()

    kept = api.post(url, {"selfie": faceless_selfie()}, format="multipart")
    assert kept.status_code == 201, kept.content
    assert kept.json()["face_found"] is False

    run = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )
    check = IdentityCheck.objects.get(training_run=run)
    assert check.outcome == Outcome.WAITING and "no face was found in your selfie" in check.reason


def test_later_trainings_of_a_model_need_no_new_selfie(
    owner, first_training, replicate_backend, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    first = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )
    training_run_jobs.cancel(job=first)

    second = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )

    second.refresh_from_db()
    assert second.replicate_id
    assert IdentityCheck.objects.filter(lora_model=lora_model).count() == 1
    with pytest.raises(DomainError) as refused:  # nothing to take a selfie for
        selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    assert refused.value.status_code == 409


def test_the_selfie_api_is_the_owners_only_and_names_bad_input(
    owner, other_user, api, as_user, first_training
):
    lora_model, _ = first_training
    url = f"/api/v1/models/{lora_model.pk}/selfie/"

    assert api.post(url, {"selfie": owner_selfie()}, format="multipart").status_code == 401
    assert (
        as_user(other_user).post(url, {"selfie": owner_selfie()}, format="multipart").status_code
        == 404
    )
    missing = as_user(owner).post(url, {}, format="multipart")
    assert missing.status_code == 400 and "selfie" in missing.json()["errors"]
    garbage = as_user(owner).post(
        url, {"selfie": faceless_selfie().__class__("x.jpg", b"not a picture")}, format="multipart"
    )
    assert garbage.status_code == 400 and "selfie" in garbage.json()["errors"]

    taken = as_user(owner).post(url, {"selfie": owner_selfie()}, format="multipart")
    assert taken.status_code == 201, taken.content
    assert taken.json()["outcome"] == "selfie_taken" and taken.json()["face_found"] is True
    assert IdentityCheck.objects.filter(lora_model=lora_model).count() == 1


def test_the_model_page_offers_the_camera_and_the_phone_fallback(owner, client, first_training):
    lora_model, _ = first_training
    client.force_login(owner)
    url = reverse("trainings:model", kwargs={"model_id": lora_model.pk})

    page = client.get(url).content.decode()
    assert 'capture="user"' in page and "likeness/selfie.js" in page
    assert reverse("likeness:selfie-take", kwargs={"model_id": lora_model.pk}) in page

    answer = client.post(
        reverse("likeness:selfie-take", kwargs={"model_id": lora_model.pk}),
        {"selfie": owner_selfie()},
        follow=True,
    )
    assert "Selfie saved" in answer.content.decode()
    assert IdentityCheck.objects.get(lora_model=lora_model).outcome == Outcome.SELFIE_TAKEN


def test_another_users_model_page_selfie_is_a_404(owner, other_user, client, first_training):
    lora_model, _ = first_training
    client.force_login(other_user)
    answer = client.post(
        reverse("likeness:selfie-take", kwargs={"model_id": lora_model.pk}),
        {"selfie": owner_selfie()},
    )
    assert answer.status_code == 404
    assert not IdentityCheck.objects.exists()


def test_a_selfie_not_used_yet_is_erased_with_the_account(owner, first_training, replicate_backend):
    lora_model, _ = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    assert default_storage.exists(check.selfie.name)

    owner.deletion_requested_at = timezone.now()
    owner.save(update_fields=["deletion_requested_at"])
    assert account_erase(user_id=owner.pk)

    assert not default_storage.exists(check.selfie.name)
    assert not IdentityCheck.objects.filter(pk=check.pk).exists()


def test_the_train_form_asks_for_the_selfie_then_tells_why_a_training_waits(
    owner, client, first_training, django_capture_on_commit_callbacks
):
    lora_model, dataset = first_training
    client.force_login(owner)
    url = reverse("trainings:model", kwargs={"model_id": lora_model.pk})
    defaults = TrainingParameters()
    form = {
        "dataset": dataset.pk,
        "steps": 1000,
        "lora_rank": defaults.lora_rank,
        "learning_rate": defaults.learning_rate,
        "batch_size": defaults.batch_size,
        "resolution": defaults.resolution,
    }

    refused = client.post(url, form)
    assert refused.status_code == 200
    assert "Take a selfie first" in refused.content.decode()
    assert not TrainingRun.objects.exists()

    client.post(
        reverse("likeness:selfie-take", kwargs={"model_id": lora_model.pk}),
        {"selfie": stranger_selfie(1)},
    )
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(url, form, follow=True)
    page = started.content.decode()
    assert "Waiting for a person to check that the photos are of you" in page
    run = TrainingRun.objects.get()
    assert run.status == TrainingRun.Status.QUEUED and run.replicate_id is None
    # The model's page says a person is checking, and offers no new selfie meanwhile.
    model_page = client.get(url).content.decode()
    assert "A person is checking that the photos are of you" in model_page
    assert 'capture="user"' not in model_page
