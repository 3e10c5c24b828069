"""What a prediction and a training do while they run: their log lines and their output.

`run_prediction` writes cog-flux-like logs (the seed, LoRA loading, a tqdm bar that
`Prediction.progress` parses) and renders the output images; `run_training` reads the training
zip, writes the trainer's logs (captions, step lines with the loss, checkpoints), saves the
weights and pushes a new LoRA version to the destination model. Both change the job only through
the `JobEngine`, which owns the state machine, and stop as soon as it says the job is over.
"""

from __future__ import annotations

import math
import random
import time
from typing import TYPE_CHECKING

from PIL import Image, UnidentifiedImageError

from . import rendering, schemas, trainer
from .ids import version_id
from .inputs import InputFileError
from .store import JobRecord, VersionRecord

if TYPE_CHECKING:
    # Only for annotations: jobs.py imports this module to start the runs.
    from .jobs import JobEngine

CUSTOM_SIZE_ERROR = "width and height must be defined if aspect ratio is 'custom'"
TICK_SECONDS = 0.1  # prediction log cadence
TRAINING_TICK_SECONDS = 0.5


def _clock(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 60:02d}:{seconds % 60:02d}"


def tqdm_line(current: int, total: int, elapsed: float, prefix: str = "", extra: str = "") -> str:
    """A progress line as tqdm prints it: ` 45%|####      | 13/28 [00:02<00:02, 6.12it/s]`."""
    total = max(total, 1)
    fraction = min(max(current / total, 0.0), 1.0)
    filled = int(fraction * 10)
    bar = "#" * filled + " " * (10 - filled)
    rate = current / elapsed if elapsed > 0 else 0.0
    remaining = (total - current) / rate if rate > 0 else 0.0
    rate_text = f"{rate:5.2f}it/s" if current else "?it/s"
    eta = _clock(remaining) if current else "?"
    return (
        f"{prefix}{int(fraction * 100):3d}%|{bar}| {current}/{total} "
        f"[{_clock(elapsed)}<{eta}, {rate_text}{extra}]"
    )


def run_prediction(engine: JobEngine, job: JobRecord) -> None:
    params = job.params
    version = engine.store.versions.get(job.version_ref)
    kind = version.kind if version else schemas.SCHNELL_KIND
    seed = params.get("seed")
    if seed is None:
        seed = job.plan["seed"]
    lines = [f"Using seed: {seed}"]
    if kind == schemas.LORA_KIND:
        lines += [
            "Ensuring enough disk space...",
            f"Loading LoRA weights for {job.model}",
            "Loaded LoRAs in 0.48s",
        ]
    if not engine.start_processing(job, lines):
        return

    if params.get("aspect_ratio") == "custom" and (
        params.get("width") is None or params.get("height") is None
    ):
        engine.fail(job, CUSTOM_SIZE_ERROR, [f"ValueError: {CUSTOM_SIZE_ERROR}"])
        return
    source = mask = None
    try:
        if params.get("image"):
            source = rendering.open_image(engine.inputs.read(params["image"]))
            if params.get("mask"):
                mask = rendering.open_image(engine.inputs.read(params["mask"]))
    except (
        InputFileError,
        UnidentifiedImageError,
        OSError,
        ValueError,
        Image.DecompressionBombError,
    ) as error:
        message = f"Failed to load the input image: {error}"
        engine.fail(job, message, [message])
        return

    steps = int(params.get("num_inference_steps", 28))
    run_seconds = job.plan["run_seconds"]
    ticks = max(1, min(steps, math.ceil(run_seconds / TICK_SECONDS)))
    stop_tick = engine.stop_tick(job, ticks)
    started = time.monotonic()
    if not engine.append_logs(job, [tqdm_line(0, steps, 0.0)]):
        return
    for tick in range(1, ticks + 1):
        if not engine.pause(job, run_seconds / ticks):
            return
        if stop_tick is not None and tick >= stop_tick:
            engine.stop_as_planned(job)
            return
        current = round(steps * tick / ticks)
        engine.append_logs(job, [tqdm_line(current, steps, time.monotonic() - started)])

    photos = []
    if version is not None and version.training_id:
        folder = engine.store.training_dir(version.training_id) / "photos"
        photos = sorted(folder.glob("*.jpg"))
    output_format = params.get("output_format", "webp")
    quality = int(params.get("output_quality", 80))
    total = int(params.get("num_outputs", 1))
    folder = engine.store.delivery_dir(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for index in range(total):
        image = rendering.render(
            rendering.RenderJob(
                model=job.model,
                params=params,
                seed=int(seed),
                index=index,
                total=total,
                photos=photos,
                source=source,
                mask=mask if kind == schemas.LORA_KIND else None,
            )
        )
        name = f"out-{index}.{output_format}"
        (folder / name).write_bytes(rendering.encode(image, output_format, quality))
        names.append(name)

    def apply() -> None:
        job.output_files = names

    engine.succeed(job, apply)


def run_training(engine: JobEngine, job: JobRecord) -> None:
    params = job.params
    trigger_word = params.get("trigger_word") or "TOK"
    if not engine.start_processing(job, []):
        return
    captions: dict[str, str] = {}
    pretrained = params.get("skip_training_and_use_pretrained_hf_lora_url")
    if pretrained:
        if not (pretrained.startswith("https://huggingface.co") and ".safetensors" in pretrained):
            message = (
                "skip_training_and_use_pretrained_hf_lora_url must be a HuggingFace "
                "URL to a .safetensors file"
            )
            engine.fail(job, message, [message])
            return
        engine.append_logs(
            job,
            [
                f"Downloading LoRA weights from {pretrained}",
                "Skipping training, using the pretrained LoRA",
            ],
        )
    else:
        if not params.get("input_images"):
            engine.fail(job, "input_images must be provided")
            return
        try:
            data = engine.inputs.read(params["input_images"])
            training_set = trainer.read_training_zip(data)
        except InputFileError as error:
            engine.fail(job, trainer.ZIP_ERROR, [f"Could not read input_images: {error}"])
            return
        except trainer.TrainingInputError as error:
            engine.fail(job, str(error), [f"{error}"])
            return
        trainer.save_photos(training_set, engine.store.training_dir(job.id) / "photos")
        captions = dict(training_set.captions)
        lines = [f"Extracted {training_set.file_count} files from zip to input_images"]
        if params.get("autocaption", True):
            missing = [n for n, _ in training_set.photos if n.rsplit(".", 1)[0] not in captions]
            if missing:
                lines.append("Using LLaVA v1.5 13B to caption images")
                prefix = params.get("autocaption_prefix") or ""
                suffix = params.get("autocaption_suffix") or ""
                for name in missing:
                    caption = f"{prefix}a photo of {trigger_word}, a person, natural light{suffix}"
                    captions[name.rsplit(".", 1)[0]] = caption
                    lines.append(f"Captioned {name}: {caption}")
        lines += [
            "Starting train job",
            "Running 1 job",
            "{",
            '    "type": "sd_trainer",',
            '    "training_folder": "output",',
            f'    "trigger_word": "{trigger_word}"',
            "}",
            "#############################################",
            "# Running job: flux_train_replicate",
            "#############################################",
            "Loading Flux model",
            f"Dataset: input_images - {len(training_set.photos)} images",
        ]
        if not engine.append_logs(job, lines):
            return

    steps = int(params.get("steps", 1000))
    learning_rate = float(params.get("learning_rate", 0.0004))
    run_seconds = job.plan["run_seconds"] if not pretrained else min(1.0, job.plan["run_seconds"])
    ticks = max(4, min(steps, int(run_seconds / TRAINING_TICK_SECONDS) or 1))
    stop_tick = engine.stop_tick(job, ticks)
    loss_rng = random.Random(job.id)
    started = time.monotonic()
    saved_quarters = 0
    for tick in range(1, ticks + 1):
        if not engine.pause(job, run_seconds / ticks):
            return
        if stop_tick is not None and tick >= stop_tick:
            engine.stop_as_planned(job)
            return
        step = round(steps * tick / ticks)
        loss = 0.55 * math.exp(-2.5 * step / steps) + 0.25 + loss_rng.uniform(-0.04, 0.04)
        extra = f", lr: {learning_rate:.1e} loss: {loss:.3e}"
        lines = [
            tqdm_line(
                step,
                steps,
                time.monotonic() - started,
                prefix="flux_train_replicate: ",
                extra=extra,
            )
        ]
        while saved_quarters < 3 and step >= steps * (saved_quarters + 1) // 4:
            saved_quarters += 1
            lines.append(f"Saving at step {steps * saved_quarters // 4}")
        engine.append_logs(job, lines)

    tarball = trainer.weights_tar(trigger_word, int(params.get("lora_rank", 16)), steps, captions)
    folder = engine.store.delivery_dir(job.id)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "trained_model.tar").write_bytes(tarball)
    if not engine.append_logs(
        job,
        [
            "Saved to output/flux_train_replicate/lora.safetensors",
            "Training complete, uploading weights",
        ],
    ):
        return

    with engine.store.lock:
        if job.terminal:
            return
        destination = engine.store.models.get(job.destination or "")
        if destination is None:
            engine.fail(job, f"The destination model {job.destination} no longer exists")
            return
        new_version = VersionRecord(
            id=version_id(),
            model=destination.key,
            kind=schemas.LORA_KIND,
            created_at=time.time(),
            cog_version="0.14.1",
            seq=engine.store.next_seq(),
            trigger_word=trigger_word,
            training_id=job.id,
        )

        def apply() -> None:
            engine.store.versions[new_version.id] = new_version
            destination.version_ids = [*destination.version_ids, new_version.id]
            job.output = {
                "version": f"{destination.key}:{new_version.id}",
                "weights": engine.serializer.url(f"/delivery/{job.id}/trained_model.tar"),
            }

        engine.succeed(job, apply)
