"""The simulator's persistence: what one change costs with 100 and with 10,000 jobs in the store.

A change is what a running prediction does many times: a log line appended and the status
moved, under the store lock, then saved. Each change is measured as the mutation plus one
synchronous `Store.flush()` (the saver thread batches several changes into one flush, so this is
the worst case), with the time the store lock is held for it. The jobs look like finished
predictions (about 1 KB each as JSON, as in the issue's 11 MB after 11,000 jobs).

The baseline is the persistence this replaced, reproduced here: every 0.5 s, the whole state as
one JSON document, built under the lock and written to `state.json` through a temporary file.

Rows (median of `--repeats` runs, one by default since `make bench` repeats it itself; p50/p95
over the changes of the median run):
- change, N jobs: one change saved, in ms; the 10,000-job row's baseline is the 100-job row.
- lock held per change, N jobs: how long other requests wait behind the save, in ms.
- full rewrite (before), N jobs: one save of the old kind, in ms (and the lock held for it).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import TextIO

from bench import Figure, percentile
from replicate_sim.store import JobRecord, Store

# Replicate's prediction envelope as the simulator keeps it, filled like a finished generation.
_PARAMS = {
    "prompt": "a photo of TOK as a pilot in the cockpit, golden hour, 85 mm",
    "num_outputs": 1,
    "aspect_ratio": "1:1",
    "output_format": "webp",
    "output_quality": 80,
    "guidance_scale": 3,
    "num_inference_steps": 28,
    "lora_scale": 1,
    "megapixels": "1",
}
_LOGS = "".join(
    f"{n * 4}%|{'#' * (n // 3)}| {n}/28 [00:0{n % 10}<00:00, 3.1it/s]\n" for n in (7, 14, 21, 28)
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--jobs", default="100,10000", help="job counts to measure, comma-separated"
    )
    parser.add_argument("--changes", type=int, default=200, help="changes measured per run")
    parser.add_argument("--rewrites", type=int, default=5, help="old-style saves per run")
    parser.add_argument(
        "--repeats", type=int, default=1, help="runs per figure (median); make bench repeats too"
    )


def _job(store: Store, number: int) -> JobRecord:
    return JobRecord(
        kind="prediction",
        id=f"{number:026d}",
        model="avatars/lora-0001",
        version="9b7a4c5e" * 8,
        version_ref="9b7a4c5e" * 8,
        input=dict(_PARAMS),
        params=dict(_PARAMS, seed=number % 65536),
        created_at=1_764_000_000.0 + number,
        seq=store.next_seq(),
        status="succeeded",
        logs=_LOGS,
        started_at=1_764_000_001.0 + number,
        completed_at=1_764_000_006.0 + number,
        webhook="http://127.0.0.1:8000/webhooks/replicate/",
        webhook_events_filter=["start", "output", "completed"],
        output_files=["out-0.webp"],
        plan={"outcome": "succeeded", "queue_seconds": 0.5, "run_seconds": 5.0, "seed": 7},
    )


def _filled_store(folder: Path, jobs: int) -> Store:
    store = Store(str(folder))
    store.lock = _TimedLock()  # type: ignore[assignment]
    with store.lock:
        for number in range(jobs):
            job = _job(store, number)
            store.jobs[job.id] = job
    store.flush()
    return store


class _TimedLock:
    """Stands in for `Store.lock` and adds up how long it is held (outermost acquisitions)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = 0
        self._since = 0.0
        self.held = 0.0

    def __enter__(self) -> _TimedLock:
        self._lock.acquire()
        self._depth += 1
        if self._depth == 1:
            self._since = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.held += time.perf_counter() - self._since
        self._lock.release()


def _change(store: Store, job: JobRecord, step: int) -> float:
    """One change and its save; returns the seconds the store lock was held for both."""
    lock = store.lock
    assert isinstance(lock, _TimedLock)
    lock.held = 0.0
    with store.lock:
        job.logs += f"{step}/28 [00:01<00:00, 3.1it/s]\n"
        job.status = "processing" if step % 2 else "succeeded"
    store.flush()
    return lock.held


def _old_full_rewrite(store: Store, target: Path) -> float:
    """The replaced `Store.save()`: the whole state under the lock, then one file written."""
    started = time.perf_counter()
    with store.lock:
        state = {
            "state_version": 1,
            "seq": store._seq,
            "files": [dataclasses.asdict(r) for r in store.files.values()],
            "versions": [dataclasses.asdict(r) for r in store.versions.values()],
            "models": [dataclasses.asdict(r) for r in store.models.values()],
            "jobs": [dataclasses.asdict(r) for r in store.jobs.values()],
        }
        data = json.dumps(state, separators=(",", ":"))
    held = time.perf_counter() - started
    temporary = target.with_suffix(".json.tmp")
    temporary.write_text(data, encoding="utf-8")
    temporary.replace(target)
    return held


def _measure(jobs: int, changes: int, rewrites: int) -> dict[str, list[float]]:
    with tempfile.TemporaryDirectory(prefix="bench-sim-") as folder:
        store = _filled_store(Path(folder), jobs)
        try:
            ordered = list(store.jobs.values())
            change_ms, change_lock_ms = [], []
            for step in range(changes):
                job = ordered[(step * 7919) % len(ordered)]  # spread over the store
                started = time.perf_counter()
                held = _change(store, job, step)
                change_ms.append((time.perf_counter() - started) * 1000)
                change_lock_ms.append(held * 1000)
            rewrite_ms, rewrite_lock_ms = [], []
            target = Path(folder) / "state.json"
            for _ in range(rewrites):
                started = time.perf_counter()
                held = _old_full_rewrite(store, target)
                rewrite_ms.append((time.perf_counter() - started) * 1000)
                rewrite_lock_ms.append(held * 1000)
            state_bytes = target.stat().st_size
        finally:
            store.close()
    return {
        "change": change_ms,
        "change_lock": change_lock_ms,
        "rewrite": rewrite_ms,
        "rewrite_lock": rewrite_lock_ms,
        "state_bytes": [float(state_bytes)],
    }


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    counts = [int(value) for value in str(args.jobs).split(",") if value.strip()]
    figures: list[Figure] = []
    smallest = min(counts)
    for count in counts:
        runs = [_measure(count, args.changes, args.rewrites) for _ in range(args.repeats)]

        def median_run(key: str, runs: list[dict[str, list[float]]] = runs) -> list[float]:
            """The samples of the run whose median is the median of the runs."""
            ranked = sorted(runs, key=lambda r: statistics.median(r[key]))
            return ranked[len(ranked) // 2][key]

        label = f"{count:,} jobs"
        megabytes = median_run("state_bytes")[0] / 1e6
        for key, name, baseline in (
            ("change", f"change, {label}", f"change, {smallest:,} jobs"),
            (
                "change_lock",
                f"lock held per change, {label}",
                f"lock held per change, {smallest:,} jobs",
            ),
            ("rewrite", f"full rewrite (before), {label}", f"change, {label}"),
            ("rewrite_lock", f"lock held per full rewrite (before), {label}", None),
        ):
            samples = median_run(key)
            figures.append(
                Figure(
                    name=name,
                    value=statistics.median(samples),
                    unit="ms",
                    baseline=baseline if baseline != name else None,
                    p50=percentile(samples, 50),
                    p95=percentile(samples, 95),
                    note=f"state.json would be {megabytes:.1f} MB" if key == "rewrite" else "",
                )
            )
    _print_table(figures, out)
    return figures


def _print_table(figures: list[Figure], out: TextIO) -> None:
    by_name = {figure.name: figure for figure in figures}
    width = max(len(figure.name) for figure in figures)
    header = f"{'':{width}}  {'median ms':>9}  {'p50 ms':>8}  {'p95 ms':>8}  {'ratio':>8}  note"
    print("simulator persistence: one change saved, by jobs in the store", file=out)
    print(header, file=out)
    print("-" * len(header), file=out)
    for figure in figures:
        base = by_name.get(figure.baseline) if isinstance(figure.baseline, str) else None
        ratio = f"{figure.value / base.value:7.2f}x" if base and base.value else ""
        print(
            f"{figure.name:{width}}  {figure.value:9.3f}  {figure.p50 or 0:8.3f}  "
            f"{figure.p95 or 0:8.3f}  {ratio:>8}  {figure.note}",
            file=out,
        )
