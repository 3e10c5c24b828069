"""Moderators decide on held trainings: the selfie and the dataset's photos side by side;
approve sends the training once, reject fails it with a plain reason and refunds it; either
way the selfie is deleted and the decision recorded with the model. Anyone else gets a 404."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from accounts.selectors import credit_balance
from likeness.models import IdentityCheck
from likeness.services import selfie_take
from moderation.models import AuditRecord
from tests.likeness.selfie_fixtures import (
    CREDITS,
    first_training_fixture,  # noqa: F401 (fixture)
    selfie_required_fixture,  # noqa: F401 (fixture)
    start,
    stranger_selfie,
    trainings_on_replicate,
)
from trainings.models import LoraModel, TrainingRun
from trainings.services import training_run_cancel

pytestmark = pytest.mark.django_db

Outcome = IdentityCheck.Outcome


@pytest.fixture
def held(owner, first_training, django_capture_on_commit_callbacks):
    """A first training held because the selfie is a stranger's: (run, check)."""
    lora_model, dataset = first_training
    selfie_take(user=owner, lora_model=lora_model, upload=stranger_selfie(3))
    run = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )
    check = IdentityCheck.objects.get(training_run=run)
    assert check.outcome == Outcome.WAITING
    return run, check


def test_the_queue_shows_the_selfie_beside_the_dataset_photos(client, moderator, held):
    run, check = held
    client.force_login(moderator)

    page = client.get(reverse("likeness:review")).content.decode()

    assert reverse("likeness:review-selfie", kwargs={"check_id": check.pk}) in page
    photos = [
        reverse("likeness:review-photo", kwargs={"check_id": check.pk, "image_id": image.pk})
        for image in run.dataset.images.all()
    ]
    assert len(photos) == 20 and all(url in page for url in photos)
    assert "Approve" in page and "Reject" in page
    selfie = client.get(reverse("likeness:review-selfie", kwargs={"check_id": check.pk}))
    assert selfie.status_code == 200 and selfie["Content-Type"] == "image/jpeg"
    photo = client.get(photos[0])
    assert photo.status_code == 200


def test_approval_sends_the_training_once_and_deletes_the_selfie(
    client, moderator, held, replicate_backend, django_capture_on_commit_callbacks
):
    run, check = held
    stored = check.selfie.name
    client.force_login(moderator)
    decide = reverse("likeness:review-decide", kwargs={"check_id": check.pk})

    assert trainings_on_replicate(replicate_backend, lora_model=run.lora_model) == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(decide, {"decision": "approved"})
    run.refresh_from_db()
    assert run.replicate_id and run.status != TrainingRun.Status.FAILED
    first_remote = run.replicate_id

    # A second decision (a double click, another moderator) changes nothing.
    with django_capture_on_commit_callbacks(execute=True) as again:
        client.post(decide, {"decision": "approved"})
        client.post(decide, {"decision": "rejected"})
    assert not again
    run.refresh_from_db()
    assert run.replicate_id == first_remote and run.status != TrainingRun.Status.FAILED
    assert trainings_on_replicate(replicate_backend, lora_model=run.lora_model) == 1

    check.refresh_from_db()
    assert check.outcome == Outcome.APPROVED and check.decided_by == moderator
    assert check.decided_at is not None
    assert not check.selfie and not default_storage.exists(stored)
    assert AuditRecord.objects.filter(action="identity_check.approved", actor=moderator).exists()
    # Decided: out of the queue, and the selfie's address is a 404 now.
    assert str(check.pk) not in client.get(reverse("likeness:review")).content.decode()
    gone = client.get(reverse("likeness:review-selfie", kwargs={"check_id": check.pk}))
    assert gone.status_code == 404


def test_rejection_fails_the_training_plainly_and_refunds_it(
    owner, moderator, as_user, held, client, django_capture_on_commit_callbacks
):
    run, check = held
    stored = check.selfie.name
    assert credit_balance(user=owner) == CREDITS - run.cost_estimate

    with django_capture_on_commit_callbacks(execute=True):
        answer = as_user(moderator).post(
            f"/api/v1/moderation/identity-checks/{check.pk}/decision/",
            {"decision": "rejected", "reason": "The selfie is of someone else."},
            format="json",
        )

    assert answer.status_code == 200, answer.content
    assert answer.json()["outcome"] == "rejected"
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and run.replicate_id is None
    assert run.error_message == "The selfie is of someone else."
    assert credit_balance(user=owner) == CREDITS  # refunded
    assert LoraModel.objects.get(pk=run.lora_model_id).status == LoraModel.Status.FAILED
    check.refresh_from_db()
    assert check.outcome == Outcome.REJECTED and check.decided_by == moderator
    assert not default_storage.exists(stored)
    client.force_login(owner)
    page = client.get(reverse("trainings:run", kwargs={"run_id": run.pk})).content.decode()
    assert "The selfie is of someone else." in page
    assert "Waiting for a person" not in page


def test_only_moderators_see_or_decide(owner, other_user, client, api, as_user, held):
    run, check = held
    decide = reverse("likeness:review-decide", kwargs={"check_id": check.pk})
    urls = [
        reverse("likeness:review"),
        reverse("likeness:review-selfie", kwargs={"check_id": check.pk}),
    ]
    for user in (owner, other_user):
        client.force_login(user)
        assert client.post(decide, {"decision": "approved"}).status_code == 404
        assert all(client.get(url).status_code == 404 for url in urls)
        api_answer = as_user(user).post(
            f"/api/v1/moderation/identity-checks/{check.pk}/decision/",
            {"decision": "approved"},
            format="json",
        )
        assert api_answer.status_code == 404
        assert as_user(user).get("/api/v1/moderation/identity-checks/").status_code == 404
    assert api.get("/api/v1/moderation/identity-checks/").status_code == 401
    check.refresh_from_db()
    run.refresh_from_db()
    assert check.outcome == Outcome.WAITING and run.replicate_id is None


def test_the_moderators_api_lists_the_waiting_checks_and_names_bad_input(moderator, as_user, held):
    _, check = held
    page = as_user(moderator).get("/api/v1/moderation/identity-checks/").json()
    assert [item["id"] for item in page["results"]] == [str(check.pk)]
    assert "does not look enough like" in page["results"][0]["reason"]
    bad = as_user(moderator).post(
        f"/api/v1/moderation/identity-checks/{check.pk}/decision/",
        {"decision": "maybe"},
        format="json",
    )
    assert bad.status_code == 400 and "decision" in bad.json()["errors"]


def test_a_held_training_canceled_by_its_owner_leaves_the_queue(owner, moderator, as_user, held):
    run, check = held
    training_run_cancel(run=run)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.CANCELED
    assert credit_balance(user=owner) == CREDITS
    page = as_user(moderator).get("/api/v1/moderation/identity-checks/").json()
    assert page["results"] == []
    check.refresh_from_db()
    assert check.outcome == Outcome.SELFIE_TAKEN and check.training_run is None


def test_an_approval_long_after_the_request_gets_the_whole_window_if_replicate_is_down(
    client, moderator, held, replicate_backend, django_capture_on_commit_callbacks
):
    """The run counts as queued when it was approved: a moderator who decides two hours later,
    during an outage, does not make it fail at its first unanswered try."""
    from datetime import timedelta

    from django.utils import timezone

    run, check = held
    TrainingRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(hours=2))
    replicate_backend.configure(error_every=1, error_status=503)
    client.force_login(moderator)
    decided = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("likeness:review-decide", kwargs={"check_id": check.pk}),
            {"decision": "approved"},
        )
    run.refresh_from_db()
    waiting = (TrainingRun.Status.QUEUED, TrainingRun.Status.SUBMITTING)
    assert run.status in waiting and not run.error_message  # still trying, not failed
    assert run.submit_retrying_until >= decided + timedelta(minutes=9)
