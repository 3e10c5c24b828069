"""The generation state machine: forward only, idempotent, credits settled once; reconciliation
finds generations whose webhook was lost; account hooks count, erase and export."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone

from accounts.models import CreditEntry
from accounts.quotas import quota_usage
from accounts.selectors import credit_balance
from accounts.services import credits_grant, credits_reserve
from core.replicate_gateway import RemoteJob
from gallery import account_hooks
from gallery.models import Collection, GeneratedImage, Generation, ShareLink
from gallery.services import generation_jobs
from tests.gallery.factories import gallery_one_of_everything, make_generation, make_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def running(owner):
    credits_grant(user=owner, amount=100, reason="test")
    generation = make_generation(
        owner, status=Generation.Status.STARTING, replicate_id="p_1", cost=8
    )
    credits_reserve(
        user=owner, amount=8, reason="Generation", reference=f"generation:{generation.id}"
    )
    return generation


def _settlements(generation):
    return sorted(
        CreditEntry.objects.filter(reference=f"generation:{generation.id}")
        .exclude(kind=CreditEntry.Kind.RESERVE)
        .values_list("kind", flat=True)
    )


def test_late_events_never_move_a_generation_backwards(running, owner):
    failed = generation_jobs.apply_remote(
        remote=RemoteJob(id="p_1", status="failed", error="CUDA error: device-side assert")
    )
    assert failed.status == Generation.Status.FAILED
    assert failed.error_message.startswith("The generation failed: CUDA error")
    for status in ("processing", "starting", "succeeded", "failed", "canceled"):
        again = generation_jobs.apply_remote(remote=RemoteJob(id="p_1", status=status))
        assert again.status == Generation.Status.FAILED
    assert _settlements(running) == ["refund"]
    assert credit_balance(user=owner) == 100


def test_a_success_without_outputs_is_a_failure_that_refunds(running, owner):
    done = generation_jobs.apply_remote(remote=RemoteJob(id="p_1", status="succeeded", output=[]))
    assert done.status == Generation.Status.FAILED
    assert _settlements(running) == ["refund"]


def test_expired_outputs_fail_and_refund(running, owner):
    done = generation_jobs.apply_remote(
        remote=RemoteJob(id="p_1", status="succeeded", output=["ftp://nowhere/out-0.webp"])
    )
    assert done.status == Generation.Status.FAILED
    assert "could not be fetched" in done.error_message
    assert _settlements(running) == ["refund"]


def test_an_unknown_prediction_is_ignored():
    assert generation_jobs.apply_remote(remote=RemoteJob(id="nope", status="succeeded")) is None


def test_reconciliation_polls_quiet_generations_and_resubmits_lost_ones(owner, monkeypatch):
    from core.remote_jobs import tasks

    refreshed, submitted = [], []
    monkeypatch.setattr(
        tasks.remote_job_refresh_task, "delay", lambda kind, rid: refreshed.append(rid)
    )
    monkeypatch.setattr(
        tasks.remote_job_submit_task, "delay", lambda kind, pk: submitted.append(pk)
    )
    old = timezone.now() - timedelta(minutes=10)
    quiet = make_generation(
        owner, status=Generation.Status.PROCESSING, replicate_id="p_q", last_event_at=old
    )
    make_generation(owner, status=Generation.Status.PROCESSING, replicate_id="p_new")
    lost = make_generation(owner, status=Generation.Status.QUEUED, last_event_at=old)
    make_generation(owner, status=Generation.Status.SUCCEEDED, last_event_at=old)
    assert generation_jobs.reconcile() == 2
    assert refreshed == [quiet.replicate_id]
    assert submitted == [str(lost.id)]
    lost.refresh_from_db()
    assert lost.last_event_at > old  # not resubmitted again on the next round


def test_usage_counts_pictures_asked_today_and_bytes_stored(owner):
    make_generation(owner, num_outputs=3)
    make_generation(owner, num_outputs=4, status=Generation.Status.FAILED)
    make_generation(owner, num_outputs=2, created_at=timezone.now() - timedelta(days=2))
    image = make_image(owner, generation=make_generation(owner, num_outputs=1))
    assert quota_usage(user=owner, kind="generations_per_day").used == 4
    assert account_hooks.gallery_storage_bytes(user=owner) == image.size_bytes
    assert quota_usage(user=owner, kind="storage_bytes").used >= image.size_bytes


def test_erasing_an_account_removes_its_gallery_and_nothing_else(owner, other_user):
    gallery_one_of_everything(owner)
    gallery_one_of_everything(other_user)
    owner_files = [
        name
        for image in GeneratedImage.objects.filter(owner=owner)
        for name in (image.file.name, image.thumbnail.name)
    ]
    owner_files.append(Generation.objects.get(owner=owner).init_image.name)
    assert all(name.startswith(f"gallery/{owner.public_id}/") for name in owner_files)
    account_hooks.erase_gallery_data(user=owner)
    account_hooks.erase_gallery_data(user=owner)  # safe to run again
    for model in (Generation, GeneratedImage, Collection, ShareLink):
        assert not model.objects.filter(owner=owner).exists(), model
        assert model.objects.filter(owner=other_user).exists(), model
    assert not any(default_storage.exists(name) for name in owner_files)
    other_image = GeneratedImage.objects.get(owner=other_user)
    assert default_storage.exists(other_image.file.name)


def test_the_export_has_the_images_and_how_they_were_made(owner):
    from accounts.exports import ExportArchive

    gallery_one_of_everything(owner)
    image = GeneratedImage.objects.get(owner=owner)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zip_file:
        account_hooks.export_gallery(user=owner, archive=ExportArchive(zip_file))
    archive = zipfile.ZipFile(buffer)
    assert f"gallery/{image.id}.webp" in archive.namelist()
    rows = json.loads(archive.read("gallery/images.json"))
    assert rows[0]["generation"]["prompt"] == "a portrait on a beach"
    assert rows[0]["ai_generated"] is True
    collections = json.loads(archive.read("gallery/collections.json"))
    assert collections[0]["images"] == [str(image.id)]
    assert json.loads(archive.read("gallery/generations.json"))[0]["status"] == "succeeded"


def test_account_deletion_runs_the_gallery_eraser(
    owner, other_user, django_capture_on_commit_callbacks
):
    from accounts.deletion import account_deletion_request
    from tests.factories import TEST_PASSWORD

    gallery_one_of_everything(owner)
    gallery_one_of_everything(other_user)
    names = [image.file.name for image in GeneratedImage.objects.filter(owner=owner)]
    with django_capture_on_commit_callbacks(execute=True):
        account_deletion_request(user=owner, password=TEST_PASSWORD)
    assert not GeneratedImage.objects.filter(owner_id=owner.pk).exists()
    assert not Generation.objects.filter(owner_id=owner.pk).exists()
    assert not any(default_storage.exists(name) for name in names)
    assert GeneratedImage.objects.filter(owner=other_user).count() == 1
