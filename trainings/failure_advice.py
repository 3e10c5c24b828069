"""What to tell a person whose training did not finish: what went wrong, and what to change.

One place for it: the run page and the failure e-mail both show `training_failure_advice`.
The kind is read from the run's plain error message (trainings.services.runs and
core.remote_jobs write it) and, for the raw trainer error, its last log lines. Advice never
suggests what is already true of the run: no smaller batch when it is already 1, no more
photos when it already had plenty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .models import TrainingRun
from .quality import RECOMMENDED_MAX_IMAGES, RECOMMENDED_MIN_IMAGES
from .services.parameters import PARAMETER_RANGES, RESOLUTIONS, TrainingParameters

OUT_OF_MEMORY = "out_of_memory"
BAD_INPUT = "bad_input"
TIMEOUT = "timeout"
UNAVAILABLE = "unavailable"
CANCELED = "canceled"
UNSAFE = "unsafe"
DATASET_GONE = "dataset_gone"
OTHER = "other"
FAILURE_KINDS = (
    OUT_OF_MEMORY,
    BAD_INPUT,
    TIMEOUT,
    UNAVAILABLE,
    CANCELED,
    UNSAFE,
    DATASET_GONE,
    OTHER,
)

# First match wins: the order puts the specific causes before the generic ones.
_KINDS = (
    (DATASET_GONE, re.compile(r"dataset of this (run|training) (was deleted|has no usable)", re.I)),
    (UNAVAILABLE, re.compile(r"did not answer|unavailable|service is down", re.I)),
    (OUT_OF_MEMORY, re.compile(r"out of (gpu )?memory|\boom\b", re.I)),
    (UNSAFE, re.compile(r"nsfw|unsafe content", re.I)),
    (TIMEOUT, re.compile(r"timed? ?out|deadline|took too long|time limit", re.I)),
    (BAD_INPUT, re.compile(r"zip|could not read the photos|input_images|bad input", re.I)),
)


@dataclass(frozen=True)
class FailureAdvice:
    kind: str
    headline: str  # what happened, in plain words
    steps: tuple[str, ...]  # what to do next, most useful first


def training_failure_kind(*, run: TrainingRun) -> str:
    if run.status == TrainingRun.Status.CANCELED:
        return CANCELED
    text = run.error_message or ""
    for kind, pattern in _KINDS:
        if pattern.search(text):
            return kind
    return OTHER


def _parameters(run: TrainingRun) -> TrainingParameters:
    try:
        return TrainingParameters.from_dict(run.parameters or {})
    except (TypeError, ValueError):
        return TrainingParameters()


def _smallest_resolution(resolution: str) -> bool:
    sizes = {part.strip() for part in str(resolution).split(",") if part.strip()}
    return sizes <= {str(RESOLUTIONS[0])}


def _out_of_memory_steps(parameters: TrainingParameters) -> list[str]:
    steps = []
    if parameters.batch_size > 1:
        steps.append(f"Lower the batch size from {parameters.batch_size} to 1.")
    if not _smallest_resolution(parameters.resolution):
        steps.append(f"Train at resolution {RESOLUTIONS[0]} only (Advanced settings).")
    if parameters.lora_rank > TrainingParameters.lora_rank:
        steps.append(f"Lower the LoRA rank from {parameters.lora_rank} to 16.")
    if not steps:
        # Already the lightest settings: the GPU was short for another reason.
        steps.append("Your settings are already the lightest; try again as they are.")
    return steps


def _photo_steps(run: TrainingRun) -> list[str]:
    if run.image_count < RECOMMENDED_MIN_IMAGES:
        return [
            f"Add photos: {run.image_count} were used; "
            f"{RECOMMENDED_MIN_IMAGES} to {RECOMMENDED_MAX_IMAGES} work best."
        ]
    return []


def training_failure_advice(*, run: TrainingRun) -> FailureAdvice | None:
    """The advice for a failed or canceled run; None for any other."""
    if run.status not in (TrainingRun.Status.FAILED, TrainingRun.Status.CANCELED):
        return None
    kind = training_failure_kind(run=run)
    parameters = _parameters(run)
    if kind == CANCELED:
        return FailureAdvice(
            kind,
            "You canceled this training; nothing was charged.",
            ("Start it again whenever you like, with the same photos and settings.",),
        )
    if kind == UNAVAILABLE:
        return FailureAdvice(
            kind,
            "Replicate, the service that trains the models, was not available.",
            (
                "Nothing is wrong with your photos or settings.",
                "Try again in a few minutes.",
            ),
        )
    if kind == DATASET_GONE:
        return FailureAdvice(
            kind,
            "The photos of this training are no longer there.",
            ("Create a dataset, upload your photos again, then train.",),
        )
    if kind == OUT_OF_MEMORY:
        return FailureAdvice(
            kind,
            "The training ran out of GPU memory.",
            tuple(_out_of_memory_steps(parameters)),
        )
    if kind == UNSAFE:
        return FailureAdvice(
            kind,
            "The trainer refused some photos as unsafe content.",
            (
                "Remove photos showing nudity or anything that could be read as such.",
                "Then try again with the photos that remain.",
            ),
        )
    if kind == TIMEOUT:
        steps = []
        low_steps = PARAMETER_RANGES["steps"][0]
        if parameters.steps > TrainingParameters.steps:
            steps.append(f"Use fewer steps: {parameters.steps} took too long; 1000 is usual.")
        elif parameters.steps > low_steps:
            steps.append("Try again; if it happens twice, use fewer steps.")
        else:
            steps.append("Try again in a while: the trainer was slow.")
        return FailureAdvice(kind, "The training took too long and was stopped.", tuple(steps))
    if kind == BAD_INPUT:
        return FailureAdvice(
            kind,
            "The trainer could not read the photos.",
            (
                "Open the dataset and remove any photo marked with a problem.",
                "Then try again.",
            ),
        )
    steps = ["Try again with the same photos and settings.", *_photo_steps(run)]
    return FailureAdvice(OTHER, run.error_message or "The training did not finish.", tuple(steps))
