"""The lifecycle of predictions and trainings: `starting` -> `processing` -> terminal.

Each job runs in a daemon thread that sleeps through the configured queue and run durations,
appends log lines as it goes (tqdm-style bars that `Prediction.progress` parses, trainer-like step
lines for trainings), and ends `succeeded`, `failed` or `canceled`. All state changes happen under
the store lock and only from a non-terminal state, so a cancel racing with completion can never
move a job backwards; webhooks are queued inside the same lock so they follow the state order.
"""

from __future__ import annotations

import math
import random
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import rendering, schemas, trainer
from .ids import version_id
from .inputs import InputFileError, InputResolver
from .serializers import Serializer
from .settings import RuntimeConfig
from .store import JobRecord, Store, VersionRecord
from .webhooks import WebhookDispatcher

CUSTOM_SIZE_ERROR = "width and height must be defined if aspect ratio is 'custom'"
TICK_SECONDS = 0.1  # prediction log cadence
TRAINING_TICK_SECONDS = 0.5


@dataclass
class _Runtime:
    done: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)


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


class JobEngine:
    def __init__(
        self,
        *,
        store: Store,
        config: RuntimeConfig,
        serializer: Serializer,
        webhooks: WebhookDispatcher,
        inputs: InputResolver,
    ) -> None:
        self.store = store
        self.config = config
        self.serializer = serializer
        self.webhooks = webhooks
        self.inputs = inputs
        self._runtime: dict[str, _Runtime] = {}
        self._stop = threading.Event()
        self._random = random.Random()
        self._sweeper: threading.Thread | None = None

    # --- creation -------------------------------------------------------------------------------

    def plan(self, kind: str, overrides: dict[str, Any]) -> dict[str, Any]:
        """Decide now how this job will go, so a config change later does not alter it."""
        config = self.config
        outcome = overrides.get("outcome") or getattr(config, f"{kind}_outcome")
        if not outcome:
            outcome = "failed" if self._random.random() < config.failure_rate else "succeeded"
        run_seconds = overrides.get("duration")
        if run_seconds is None:
            run_seconds = (
                config.prediction_seconds if kind == "prediction" else config.training_seconds
            )
        return {
            "outcome": outcome,
            "error": overrides.get("error") or getattr(config, f"{kind}_error"),
            "queue_seconds": config.queue_seconds,
            "run_seconds": float(run_seconds),
            "stop_at": round(self._random.uniform(0.3, 0.8), 3),
            # cog-flux draws a random 16-bit seed when none is given, and logs it.
            "seed": self._random.randint(0, 65535),
        }

    def submit(self, job: JobRecord) -> None:
        """Start a job that was just added to the store (under the caller's lock or not)."""
        with self.store.lock:
            self._emit(job, "start")
        self._launch(job)
        if job.deadline is not None:
            timer = threading.Timer(max(0.0, job.deadline - time.time()), self._deadline, [job.id])
            timer.daemon = True
            timer.start()

    def recover(self) -> None:
        """After a restart with a data folder, run interrupted jobs again from the start."""
        with self.store.lock:
            pending = [job for job in self.store.jobs.values() if not job.terminal]
            for job in pending:
                job.status = "starting"
                job.started_at = None
                job.logs = ""
                job.output = None
                job.output_files = []
            self.store.touch()
        for job in pending:
            self._launch(job)

    def _launch(self, job: JobRecord) -> None:
        self._runtime[job.id] = _Runtime()
        thread = threading.Thread(
            target=self._run, args=(job.id,), name=f"sim-{job.kind}-{job.id}", daemon=True
        )
        thread.start()

    # --- control --------------------------------------------------------------------------------

    def wait(self, job_id: str, timeout: float) -> bool:
        """Block until the job is terminal or `timeout` passes; True if terminal."""
        runtime = self._runtime.get(job_id)
        if runtime is not None:
            runtime.done.wait(timeout)
        with self.store.lock:
            job = self.store.jobs.get(job_id)
            return job is None or job.terminal

    def cancel(self, job: JobRecord) -> None:
        with self.store.lock:
            if not job.terminal:
                self._finish(job, "canceled")

    def stop(self) -> None:
        self._stop.set()
        for runtime in list(self._runtime.values()):
            runtime.wake.set()

    def _deadline(self, job_id: str) -> None:
        with self.store.lock:
            job = self.store.jobs.get(job_id)
            if job is not None and not job.terminal:
                self._append(
                    job, ["Prediction canceled: the Cancel-After deadline passed."], emit=False
                )
                self._finish(job, "canceled")

    # --- expiry ---------------------------------------------------------------------------------

    def start_sweeper(self, interval: float = 0.25) -> None:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.expire_due()
                except Exception:  # keep sweeping; the error is for the operator
                    traceback.print_exc()

        self._sweeper = threading.Thread(target=loop, name="sim-expiry", daemon=True)
        self._sweeper.start()

    def expire_due(self) -> list[str]:
        now = time.time()
        ttl = self.config.output_ttl
        with self.store.lock:
            due = [
                job
                for job in self.store.jobs_of_kind("prediction")
                if job.terminal
                and not job.data_removed
                and job.completed_at is not None
                and job.completed_at + ttl <= now
            ]
            for job in due:
                self._expire(job)
        return [job.id for job in due]

    def expire_now(self, job_id: str | None = None) -> list[str]:
        """Fast-forward data removal (`POST /_sim/expire`) for one or all finished predictions."""
        with self.store.lock:
            jobs = [
                job
                for job in self.store.jobs_of_kind("prediction")
                if job.terminal and not job.data_removed and (job_id is None or job.id == job_id)
            ]
            for job in jobs:
                self._expire(job)
        return [job.id for job in jobs]

    def _expire(self, job: JobRecord) -> None:
        # What Replicate does after an hour: input, output, files and logs go; the record stays.
        job.data_removed = True
        job.output = None
        job.output_files = []
        job.input = {}
        job.params = {}
        job.logs = ""
        shutil.rmtree(self.store.delivery_dir(job.id), ignore_errors=True)
        self.store.touch()

    def forget(self, job: JobRecord) -> None:
        """Delete a job with its files (when its version is deleted)."""
        with self.store.lock:
            if not job.terminal:
                self._finish(job, "canceled")
            self.store.jobs.pop(job.id, None)
            shutil.rmtree(self.store.delivery_dir(job.id), ignore_errors=True)
            self.store.touch()

    # --- state changes (caller holds no lock; each takes it) ------------------------------------

    def _emit(self, job: JobRecord, event: str) -> None:
        self.webhooks.emit(job=job, event=event, body=self.serializer.job(job))

    def _append(self, job: JobRecord, lines: list[str], *, emit: bool = True) -> bool:
        with self.store.lock:
            if job.terminal:
                return False
            job.logs += "".join(f"{line}\n" for line in lines)
            self.store.touch()
            if emit:
                self._emit(job, "logs")
            return True

    def _start_processing(self, job: JobRecord, lines: list[str]) -> bool:
        with self.store.lock:
            if job.terminal:
                return False
            job.status = "processing"
            job.started_at = time.time()
            job.logs += "".join(f"{line}\n" for line in lines)
            self.store.touch()
            self._emit(job, "logs")
            return True

    def _finish(self, job: JobRecord, status: str, *, error: str | None = None) -> None:
        with self.store.lock:
            if job.terminal:
                return
            job.status = status
            job.error = error
            job.completed_at = time.time()
            self.store.touch()
            self._emit(job, "completed")
        runtime = self._runtime.get(job.id)
        if runtime is not None:
            runtime.wake.set()
            runtime.done.set()

    def _fail(self, job: JobRecord, error: str, log_lines: list[str] | None = None) -> None:
        with self.store.lock:
            if job.terminal:
                return
            if log_lines:
                job.logs += "".join(f"{line}\n" for line in log_lines)
            self._finish(job, "failed", error=error)

    def _succeed(self, job: JobRecord, apply_output: Callable[[], None]) -> None:
        with self.store.lock:
            if job.terminal:
                return
            apply_output()
            self.store.touch()
            self._emit(job, "output")
            self._finish(job, "succeeded")

    def _sleep(self, job: JobRecord, seconds: float) -> bool:
        """Sleep unless canceled or shutting down; True while the job should go on."""
        runtime = self._runtime[job.id]
        if seconds > 0:
            runtime.wake.wait(seconds)
        return not job.terminal and not self._stop.is_set()

    # --- the runs -------------------------------------------------------------------------------

    def _run(self, job_id: str) -> None:
        with self.store.lock:
            job = self.store.jobs.get(job_id)
        if job is None:  # deleted (with its version) before it started
            return
        try:
            if not self._sleep(job, job.plan["queue_seconds"]):
                return
            if job.kind == "prediction":
                self._run_prediction(job)
            else:
                self._run_training(job)
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            self._fail(job, f"Prediction interrupted; please retry (code: PA) [{error}]")
        finally:
            runtime = self._runtime.get(job.id)
            if runtime is not None and job.terminal:
                runtime.done.set()
                self._runtime.pop(job.id, None)

    def _steps_until_stop(self, job: JobRecord, ticks: int) -> int | None:
        """The tick at which a planned failure or cancellation happens (None: runs to the end)."""
        if job.plan["outcome"] == "succeeded":
            return None
        return max(1, int(ticks * job.plan["stop_at"]))

    def _planned_stop(self, job: JobRecord) -> None:
        if job.plan["outcome"] == "canceled":
            self._finish(job, "canceled")
        else:
            self._fail(job, job.plan["error"])

    def _run_prediction(self, job: JobRecord) -> None:
        params = job.params
        version = self.store.versions.get(job.version_ref)
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
        if not self._start_processing(job, lines):
            return

        if params.get("aspect_ratio") == "custom" and (
            params.get("width") is None or params.get("height") is None
        ):
            self._fail(job, CUSTOM_SIZE_ERROR, [f"ValueError: {CUSTOM_SIZE_ERROR}"])
            return
        source = mask = None
        try:
            if params.get("image"):
                source = rendering.open_image(self.inputs.read(params["image"]))
                if params.get("mask"):
                    mask = rendering.open_image(self.inputs.read(params["mask"]))
        except (
            InputFileError,
            UnidentifiedImageError,
            OSError,
            ValueError,
            Image.DecompressionBombError,
        ) as error:
            message = f"Failed to load the input image: {error}"
            self._fail(job, message, [message])
            return

        steps = int(params.get("num_inference_steps", 28))
        run_seconds = job.plan["run_seconds"]
        ticks = max(1, min(steps, math.ceil(run_seconds / TICK_SECONDS)))
        stop_tick = self._steps_until_stop(job, ticks)
        started = time.monotonic()
        if not self._append(job, [tqdm_line(0, steps, 0.0)]):
            return
        for tick in range(1, ticks + 1):
            if not self._sleep(job, run_seconds / ticks):
                return
            if stop_tick is not None and tick >= stop_tick:
                self._planned_stop(job)
                return
            current = round(steps * tick / ticks)
            self._append(job, [tqdm_line(current, steps, time.monotonic() - started)])

        photos = []
        if version is not None and version.training_id:
            folder = self.store.training_dir(version.training_id) / "photos"
            photos = sorted(folder.glob("*.jpg"))
        output_format = params.get("output_format", "webp")
        quality = int(params.get("output_quality", 80))
        total = int(params.get("num_outputs", 1))
        folder = self.store.delivery_dir(job.id)
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

        self._succeed(job, apply)

    def _run_training(self, job: JobRecord) -> None:
        params = job.params
        trigger_word = params.get("trigger_word") or "TOK"
        if not self._start_processing(job, []):
            return
        captions: dict[str, str] = {}
        pretrained = params.get("skip_training_and_use_pretrained_hf_lora_url")
        if pretrained:
            if not (
                pretrained.startswith("https://huggingface.co") and ".safetensors" in pretrained
            ):
                message = (
                    "skip_training_and_use_pretrained_hf_lora_url must be a HuggingFace "
                    "URL to a .safetensors file"
                )
                self._fail(job, message, [message])
                return
            self._append(
                job,
                [
                    f"Downloading LoRA weights from {pretrained}",
                    "Skipping training, using the pretrained LoRA",
                ],
            )
        else:
            if not params.get("input_images"):
                self._fail(job, "input_images must be provided")
                return
            try:
                data = self.inputs.read(params["input_images"])
                training_set = trainer.read_training_zip(data)
            except InputFileError as error:
                self._fail(job, trainer.ZIP_ERROR, [f"Could not read input_images: {error}"])
                return
            except trainer.TrainingInputError as error:
                self._fail(job, str(error), [f"{error}"])
                return
            trainer.save_photos(training_set, self.store.training_dir(job.id) / "photos")
            captions = dict(training_set.captions)
            lines = [f"Extracted {training_set.file_count} files from zip to input_images"]
            if params.get("autocaption", True):
                missing = [n for n, _ in training_set.photos if n.rsplit(".", 1)[0] not in captions]
                if missing:
                    lines.append("Using LLaVA v1.5 13B to caption images")
                    prefix = params.get("autocaption_prefix") or ""
                    suffix = params.get("autocaption_suffix") or ""
                    for name in missing:
                        caption = (
                            f"{prefix}a photo of {trigger_word}, a person, natural light{suffix}"
                        )
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
            if not self._append(job, lines):
                return

        steps = int(params.get("steps", 1000))
        learning_rate = float(params.get("learning_rate", 0.0004))
        run_seconds = (
            job.plan["run_seconds"] if not pretrained else min(1.0, job.plan["run_seconds"])
        )
        ticks = max(4, min(steps, int(run_seconds / TRAINING_TICK_SECONDS) or 1))
        stop_tick = self._steps_until_stop(job, ticks)
        loss_rng = random.Random(job.id)
        started = time.monotonic()
        saved_quarters = 0
        for tick in range(1, ticks + 1):
            if not self._sleep(job, run_seconds / ticks):
                return
            if stop_tick is not None and tick >= stop_tick:
                self._planned_stop(job)
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
            self._append(job, lines)

        tarball = trainer.weights_tar(
            trigger_word, int(params.get("lora_rank", 16)), steps, captions
        )
        folder = self.store.delivery_dir(job.id)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "trained_model.tar").write_bytes(tarball)
        if not self._append(
            job,
            [
                "Saved to output/flux_train_replicate/lora.safetensors",
                "Training complete, uploading weights",
            ],
        ):
            return

        with self.store.lock:
            if job.terminal:
                return
            destination = self.store.models.get(job.destination or "")
            if destination is None:
                self._fail(job, f"The destination model {job.destination} no longer exists")
                return
            new_version = VersionRecord(
                id=version_id(),
                model=destination.key,
                kind=schemas.LORA_KIND,
                created_at=time.time(),
                cog_version="0.14.1",
                seq=self.store.next_seq(),
                trigger_word=trigger_word,
                training_id=job.id,
            )

            def apply() -> None:
                self.store.versions[new_version.id] = new_version
                destination.version_ids.append(new_version.id)
                job.output = {
                    "version": f"{destination.key}:{new_version.id}",
                    "weights": self.serializer.url(f"/delivery/{job.id}/trained_model.tar"),
                }

            self._succeed(job, apply)
