"""Builders for the journey from photos to pictures: datasets in each state, runs with their
credit reservation, as the services leave them (no image processing, no Replicate)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from accounts.services import credits_capture, credits_grant, credits_refund, credits_reserve
from trainings.models import Dataset, DatasetImage, LoraModel, TrainingRun
from trainings.quality import FaceBox, ImageMeasurements


def _hash(index: int) -> int:
    """Perceptual hashes far apart from each other (no photo is a duplicate of another)."""
    return int.from_bytes(bytes([(index * 37 + 11) % 256] * 2 + [index % 256] * 6), "big") ^ (
        0xFFFF << (index % 48)
    )


def _measurements(index: int, face: float) -> dict:
    box = FaceBox(0.1, 0.1, face, face)
    return ImageMeasurements(
        width=1024, height=1024, sharpness=400.0, faces=(box,), phash=_hash(index)
    ).to_dict()


def dataset_with_photos(user, *, name="My photos", ready=20, pending=0, created_at=None) -> Dataset:
    """A dataset of `ready` checked photos (the recommended mix: 12/5/3 of 20) and `pending`
    ones not checked yet. 20 ready photos make a dataset that can be trained."""
    dataset = Dataset.objects.create(owner=user, name=name, created_at=created_at or timezone.now())
    sizes = ([0.3] * 12 + [0.18] * 5 + [0.08] * 3)[:ready]
    for index, face in enumerate(sizes):
        DatasetImage.objects.create(
            dataset=dataset,
            original_name=f"IMG_{index:02d}.jpg",
            status=DatasetImage.Status.READY,
            measurements=_measurements(index, face),
        )
    for index in range(pending):
        DatasetImage.objects.create(dataset=dataset, original_name=f"NEW_{index:02d}.jpg")
    return dataset


def draft_model(user, *, name="Me", trigger_word="ZORVAK") -> LoraModel:
    return LoraModel.objects.create(owner=user, name=name, trigger_word=trigger_word)


def run_with_credits(
    user,
    *,
    dataset,
    lora_model,
    status=TrainingRun.Status.PROCESSING,
    settle: str | None = None,
    **fields,
) -> TrainingRun:
    """A run with its 200 credits reserved and, with `settle` ("capture" or "refund"),
    settled as the lifecycle does when it ends."""
    credits_grant(user=user, amount=1000, reason="test credits")
    ended = status in TrainingRun.TERMINAL
    values = {
        "owner": user,
        "dataset": dataset,
        "lora_model": lora_model,
        "status": status,
        "total_steps": 1000,
        "current_step": 400 if status == TrainingRun.Status.PROCESSING else 0,
        "cost_estimate": 200,
        "image_count": 20,
        "parameters": {"steps": 1000, "batch_size": 1, "lora_rank": 16},
        "started_at": timezone.now() - timedelta(minutes=5),
        "completed_at": timezone.now() if ended else None,
        **fields,
    }
    run = TrainingRun.objects.create(**values)
    reservation = credits_reserve(
        user=user,
        amount=200,
        reason=f"Training of {lora_model.name}",
        reference=run.credit_reference,
    )
    if settle == "capture":
        credits_capture(reservation=reservation)
    elif settle == "refund":
        credits_refund(reservation=reservation)
    return run
