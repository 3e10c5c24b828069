"""The job engine: the lifecycle of jobs, `starting` -> `processing` -> terminal.

Each job runs in a daemon thread that sleeps through the configured queue duration, then runs
the prediction or training of `job_runs` (which writes the logs and the output), and ends
`succeeded`, `failed` or `canceled`, as planned when the job was created. All state changes
happen here, under the store lock and only from a non-terminal state, so a cancel racing with
completion can never move a job backwards; webhooks are queued inside the same lock so they follow
the state order. Expiry of finished predictions' data is here too.
"""

from __future__ import annotations

import heapq
import random
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .inputs import InputResolver
from .job_runs import run_prediction, run_training
from .serializers import Serializer
from .settings import RuntimeConfig
from .store import JobRecord, Store
from .webhooks import WebhookDispatcher


@dataclass
class _Runtime:
    done: threading.Event = field(default_factory=threading.Event)
    wake: threading.Event = field(default_factory=threading.Event)


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
        # (completed_at, id) of finished predictions whose data is still there, soonest first, so
        # the sweeper looks at the due ones only, however many jobs the store holds.
        self._expiry: list[tuple[float, str]] = []

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
            self._expiry = [
                (job.completed_at, job.id)
                for job in self.store.jobs_of_kind("prediction")
                if job.terminal and not job.data_removed and job.completed_at is not None
            ]
            heapq.heapify(self._expiry)
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
                self.append_logs(
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
        due: list[JobRecord] = []
        with self.store.lock:
            while self._expiry and self._expiry[0][0] + ttl <= now:
                _completed_at, job_id = heapq.heappop(self._expiry)
                job = self.store.jobs.get(job_id)
                # Gone (deleted, wiped) or already expired by `/_sim/expire`: nothing to do.
                if job is not None and job.terminal and not job.data_removed:
                    self._expire(job)
                    due.append(job)
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

    # --- state changes, for the runs (caller holds no lock; each takes it) -----------------------

    def _emit(self, job: JobRecord, event: str) -> None:
        self.webhooks.emit(job=job, event=event, body=self.serializer.job(job))

    def append_logs(self, job: JobRecord, lines: list[str], *, emit: bool = True) -> bool:
        """Add log lines (and send a `logs` webhook); False if the job is already over."""
        with self.store.lock:
            if job.terminal:
                return False
            job.logs += "".join(f"{line}\n" for line in lines)
            self.store.touch()
            if emit:
                self._emit(job, "logs")
            return True

    def start_processing(self, job: JobRecord, lines: list[str]) -> bool:
        """Move to `processing` with its first log lines; False if the job is already over."""
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
            if job.kind == "prediction":
                heapq.heappush(self._expiry, (job.completed_at, job.id))
            self.store.touch()
            self._emit(job, "completed")
        runtime = self._runtime.get(job.id)
        if runtime is not None:
            runtime.wake.set()
            runtime.done.set()

    def fail(self, job: JobRecord, error: str, log_lines: list[str] | None = None) -> None:
        """End `failed` with `error`, after the last log lines, unless the job is already over."""
        with self.store.lock:
            if job.terminal:
                return
            if log_lines:
                job.logs += "".join(f"{line}\n" for line in log_lines)
            self._finish(job, "failed", error=error)

    def succeed(self, job: JobRecord, apply_output: Callable[[], None]) -> None:
        """Set the output (`apply_output`, under the lock) and end `succeeded`, unless over."""
        with self.store.lock:
            if job.terminal:
                return
            apply_output()
            self.store.touch()
            self._emit(job, "output")
            self._finish(job, "succeeded")

    def pause(self, job: JobRecord, seconds: float) -> bool:
        """Sleep unless canceled or shutting down; True while the job should go on."""
        runtime = self._runtime[job.id]
        if seconds > 0:
            runtime.wake.wait(seconds)
        return not job.terminal and not self._stop.is_set()

    # --- running -------------------------------------------------------------------------------

    def _run(self, job_id: str) -> None:
        with self.store.lock:
            job = self.store.jobs.get(job_id)
        if job is None:  # deleted (with its version) before it started
            return
        try:
            if not self.pause(job, job.plan["queue_seconds"]):
                return
            if job.kind == "prediction":
                run_prediction(self, job)
            else:
                run_training(self, job)
        except Exception as error:
            traceback.print_exc(file=sys.stderr)
            self.fail(job, f"Prediction interrupted; please retry (code: PA) [{error}]")
        finally:
            runtime = self._runtime.get(job.id)
            if runtime is not None and job.terminal:
                runtime.done.set()
                self._runtime.pop(job.id, None)

    def stop_tick(self, job: JobRecord, ticks: int) -> int | None:
        """The tick at which a planned failure or cancellation happens (None: runs to the end)."""
        if job.plan["outcome"] == "succeeded":
            return None
        return max(1, int(ticks * job.plan["stop_at"]))

    def stop_as_planned(self, job: JobRecord) -> None:
        """End the way the plan says a job that does not succeed ends: `canceled` or `failed`."""
        if job.plan["outcome"] == "canceled":
            self._finish(job, "canceled")
        else:
            self.fail(job, job.plan["error"])
