"""The signed-in home page's reads: where the person is on the way from photos to pictures,
and the one thing to do next.

A handful of queries whatever the account holds (a test counts them): the running training,
the newest ready model, the five newest datasets (and the report of at most five of them),
the latest pictures and the credit balance.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse

from accounts.selectors import credit_balance
from gallery.selectors import Viewer, images_viewable

from . import selectors
from .models import Dataset, LoraModel, TrainingRun

NO_PHOTOS = "no_photos"
MORE_PHOTOS = "more_photos"
CHECKING = "checking"
READY_TO_TRAIN = "ready_to_train"
TRAINING = "training"
MODEL_READY = "model_ready"

LATEST_PICTURES = 8


@dataclass(frozen=True)
class NextAction:
    label: str
    url: str


@dataclass
class Dashboard:
    state: str
    headline: str
    explanation: str
    action: NextAction
    dataset: Dataset | None = None
    run: TrainingRun | None = None
    lora_model: LoraModel | None = None
    progress: dict = field(default_factory=dict)  # a running training's (percent, time left)
    pictures: list = field(default_factory=list)
    balance: int = 0


def generate_url(*, lora_model: LoraModel) -> str:
    """The generate page with `lora_model` chosen."""
    return f"{reverse('gallery:generate')}?model={lora_model.pk}"


def model_create_url(*, dataset: Dataset) -> str:
    """The new-model page, the dataset it will be trained on carried along."""
    return f"{reverse('trainings:model-create')}?dataset={dataset.pk}"


def _journey(user) -> Dashboard:
    run = (
        selectors.training_run_list(user=user)
        .filter(status__in=TrainingRun.ACTIVE)
        .order_by("-created_at")
        .first()
    )
    if run is not None:
        return Dashboard(
            state=TRAINING,
            headline=f"Training your model “{run.lora_model.name}”",
            explanation="It takes about twenty minutes. This page follows it; you can leave "
            "and come back, and we send you an e-mail when it is done.",
            action=NextAction("Follow the training", reverse("trainings:run", args=[run.pk])),
            run=run,
            lora_model=run.lora_model,
            progress=selectors.training_run_progress(run=run),
        )
    ready_model = (
        selectors.lora_model_list(user=user)
        .filter(status=LoraModel.Status.READY, current_version__isnull=False)
        .order_by("-updated_at")
        .first()
    )
    if ready_model is not None:
        return Dashboard(
            state=MODEL_READY,
            headline=f"Your model “{ready_model.name}” is ready",
            explanation=f"Describe a scene with {ready_model.trigger_word} in it, and get "
            "pictures of yourself.",
            action=NextAction("Create pictures", generate_url(lora_model=ready_model)),
            lora_model=ready_model,
        )
    datasets = list(selectors.dataset_list(user=user).order_by("-created_at")[:5])
    checking = next((dataset for dataset in datasets if dataset.pending_count), None)
    if checking is not None:
        return Dashboard(
            state=CHECKING,
            headline="Your photos are being checked",
            explanation=f"{checking.pending_count} to go. We straighten each photo, strip its "
            "location data and check its quality.",
            action=NextAction("See your photos", reverse("trainings:dataset", args=[checking.pk])),
            dataset=checking,
        )
    ready_dataset = selectors.dataset_ready_newest(user=user)
    if ready_dataset is not None:
        draft = (
            selectors.lora_model_list(user=user)
            .exclude(status=LoraModel.Status.READY)
            .order_by("-created_at")
            .first()
        )
        url = (
            f"{reverse('trainings:model', args=[draft.pk])}?dataset={ready_dataset.pk}"
            if draft
            else model_create_url(dataset=ready_dataset)
        )
        if draft is not None and draft.status == LoraModel.Status.FAILED:
            headline = "Your last training did not finish"
            explanation = (
                f"Nothing was charged for it. The page of {draft.name} says what went wrong "
                "and what to change; then train again."
            )
        else:
            headline = "Your photos are ready to train"
            explanation = (
                f"“{ready_dataset.name}” passed the checks. Training makes a private model of "
                "you; it takes about twenty minutes."
            )
        return Dashboard(
            state=READY_TO_TRAIN,
            headline=headline,
            explanation=explanation,
            action=NextAction("Train your model", url),
            dataset=ready_dataset,
            lora_model=draft,
        )
    if datasets and datasets[0].image_count:
        newest = datasets[0]
        return Dashboard(
            state=MORE_PHOTOS,
            headline="Your photos need a little more work",
            explanation=f"“{newest.name}” is not ready to train yet: its page says what to add "
            "or replace.",
            action=NextAction("Add more photos", reverse("trainings:dataset", args=[newest.pk])),
            dataset=newest,
        )
    target = (
        reverse("trainings:dataset", args=[datasets[0].pk])
        if datasets
        else reverse("trainings:dataset-create")
    )
    return Dashboard(
        state=NO_PHOTOS,
        headline="Start with your photos",
        explanation="Upload 12 to 20 photos of yourself: about 12 close-ups, 5 half-body and "
        "3 full-body shots, in different places and light.",
        action=NextAction("Upload your photos", target),
        dataset=datasets[0] if datasets else None,
    )


def dashboard_get(*, user) -> Dashboard:
    dashboard = _journey(user)
    pictures = images_viewable(viewer=Viewer.of(user)).order_by("-created_at", "-id")
    dashboard.pictures = list(pictures[:LATEST_PICTURES])
    dashboard.balance = credit_balance(user=user)
    return dashboard
