"""A selfie is kept only until its decision: one never used (no training started, or the one
started canceled) is deleted after SELFIE_KEEP_HOURS, by an hourly beat task; and its file goes
with the model, or the check, when they are deleted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from config.celery import app as celery_app
from core.exceptions import DomainError
from likeness.models import IdentityCheck
from likeness.services import selfie_take, selfies_expire
from tests.likeness.selfie_fixtures import (
    first_training_fixture,  # noqa: F401 (fixture)
    owner_selfie,
    selfie_required_fixture,  # noqa: F401 (fixture)
    start,
    stranger_selfie,
)
from trainings.services import lora_model_delete, training_run_jobs

pytestmark = pytest.mark.django_db

Outcome = IdentityCheck.Outcome


def _age(check: IdentityCheck, hours: float) -> None:
    IdentityCheck.objects.filter(pk=check.pk).update(
        created_at=timezone.now() - timedelta(hours=hours)
    )


def test_an_unused_selfie_is_deleted_after_the_keep_hours(
    owner, first_training, settings, django_capture_on_commit_callbacks
):
    settings.SELFIE_KEEP_HOURS = 24
    lora_model, dataset = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    _age(check, 23)
    with django_capture_on_commit_callbacks(execute=True):
        assert selfies_expire() == 0
    assert default_storage.exists(check.selfie.name)

    _age(check, 25)
    with django_capture_on_commit_callbacks(execute=True):
        assert selfies_expire() == 1

    assert not IdentityCheck.objects.filter(pk=check.pk).exists()
    assert not default_storage.exists(check.selfie.name)
    # The next training asks for a new selfie.
    with pytest.raises(DomainError) as refused:
        start(
            owner,
            lora_model=lora_model,
            dataset=dataset,
            capture=django_capture_on_commit_callbacks,
        )
    assert refused.value.code == "selfie_required"


def test_a_selfie_given_back_by_a_canceled_training_expires_too(
    owner, first_training, settings, django_capture_on_commit_callbacks
):
    settings.SELFIE_KEEP_HOURS = 24
    lora_model, dataset = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=stranger_selfie(3))
    run = start(
        owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks
    )
    check.refresh_from_db()
    assert check.outcome == Outcome.WAITING
    _age(check, 48)
    with django_capture_on_commit_callbacks(execute=True):
        assert selfies_expire() == 0  # waiting for a moderator: kept

    with django_capture_on_commit_callbacks(execute=True):
        training_run_jobs.cancel(job=run)
    check.refresh_from_db()
    assert check.outcome == Outcome.SELFIE_TAKEN and check.training_run is None
    with django_capture_on_commit_callbacks(execute=True):
        assert selfies_expire() == 1
    assert not default_storage.exists(check.selfie.name)


def test_a_decided_check_stays_when_its_selfie_is_gone(
    owner, first_training, settings, django_capture_on_commit_callbacks
):
    settings.SELFIE_KEEP_HOURS = 24
    lora_model, dataset = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    start(owner, lora_model=lora_model, dataset=dataset, capture=django_capture_on_commit_callbacks)
    _age(check, 48)

    with django_capture_on_commit_callbacks(execute=True):
        assert selfies_expire() == 0

    check.refresh_from_db()
    assert check.outcome == Outcome.MATCHED


def test_deleting_the_model_deletes_its_selfie_file(
    owner, first_training, django_capture_on_commit_callbacks
):
    lora_model, _ = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    assert default_storage.exists(check.selfie.name)

    with django_capture_on_commit_callbacks(execute=True):
        lora_model_delete(lora_model=lora_model)

    assert not IdentityCheck.objects.filter(pk=check.pk).exists()
    assert not default_storage.exists(check.selfie.name)


def test_deleting_a_check_deletes_its_selfie_file_after_the_commit(
    owner, first_training, django_capture_on_commit_callbacks
):
    lora_model, _ = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    name = check.selfie.name

    with django_capture_on_commit_callbacks(execute=False) as pending:
        IdentityCheck.objects.filter(pk=check.pk).delete()
        assert default_storage.exists(name)  # not before the commit
    for callback in pending:
        callback()

    assert not default_storage.exists(name)


def test_taking_another_selfie_deletes_the_file_of_the_one_it_replaces(
    owner, first_training, django_capture_on_commit_callbacks
):
    lora_model, _ = first_training
    with django_capture_on_commit_callbacks(execute=True):
        first = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
        second = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())

    assert not default_storage.exists(first.selfie.name)
    assert default_storage.exists(second.selfie.name)
    assert list(IdentityCheck.objects.filter(lora_model=lora_model)) == [second]


def test_beat_expires_unused_selfies_every_hour():
    celery_app.finalize()  # the beat schedule is set once the app is finalized
    celery_app.loader.import_default_modules()  # and the tasks found
    entries = {entry["task"]: entry["schedule"] for entry in celery_app.conf.beat_schedule.values()}
    assert entries.get("likeness.tasks.selfies_expire_task") == 60 * 60
    assert "likeness.tasks.selfies_expire_task" in celery_app.tasks


def test_the_task_calls_the_service(owner, first_training, settings):
    from likeness.tasks import selfies_expire_task

    settings.SELFIE_KEEP_HOURS = 1
    lora_model, _ = first_training
    check = selfie_take(user=owner, lora_model=lora_model, upload=owner_selfie())
    _age(check, 2)

    assert selfies_expire_task() == 1
    assert not IdentityCheck.objects.filter(pk=check.pk).exists()
