"""Benchmarks, run with `make bench` (`python -m bench`); not part of the test suite.

One module per benchmark. Register it in BENCHMARKS below; the module provides
`add_arguments(parser)` (its options) and `run(args, out) -> list` (it prints its own table to
`out` and returns its rows, which a test can check and bench/report.py collects).

A row is a `Figure` (name, value, unit, baseline, p50, p95), or a `Row` of per-item timings
(bench/report.py turns one into a Figure: the total, p50/p95 per item, against the module's
`BASELINE` row). A module whose benchmark needs PostgreSQL and Redis sets
`REQUIRES = ("DATABASE_URL", "REDIS_URL")`; without them `make bench` notes it and skips it.
"""

from __future__ import annotations

import importlib
import math
import os
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TextIO

# name -> (module, one-line description)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "preprocess": (
        "bench.preprocess",
        "dataset pipeline, 20 phone photos (person, mixed): ours vs plain decode and resize",
    ),
    "simple_image": (
        "bench.simple_image",
        "gallery API latency with 50 callers waiting on POST /api/v1/image/{model} (gunicorn)",
    ),
    "classifier": ("bench.classifier", "image classifier (NudeNet) time per 1024 px output"),
    "prompt_rules": ("bench.prompt_rules", "prompt rules: time 1,000 rules add per prompt"),
    "gallery_api": (
        "bench.gallery_api",
        "gallery API page of 30 for a user with 20,000 of 100,000 images: p95, SQL, keyset",
    ),
    "gallery_page": (
        "bench.gallery_page",
        "web gallery page of 50 pictures: bytes on the wire on a phone and a laptop",
    ),
    "likeness": (
        "bench.likeness",
        "face identity: time faces add per photo (512/1024 px), per output, to a 30-photo report",
    ),
    "throughput": (
        "bench.throughput",
        "pictures/min for 50 people each waiting for a picture (PostgreSQL, Redis, gunicorn)",
    ),
    "completion": (
        "bench.completion",
        "final webhook of a 4-output generation to its pictures listed (PostgreSQL, Redis)",
    ),
    "webhooks": (
        "bench.webhooks",
        "signed webhooks accepted per second, 10% duplicates, 0 lost (PostgreSQL, Redis, gunicorn)",
    ),
    "queues": (
        "bench.queues",
        "an I/O task's wait during a burst of photos: one shared queue vs. a queue per shape",
    ),
    "simulator": (
        "bench.simulator",
        "simulator persistence: time per saved change with 100 and 10,000 jobs, vs. full rewrite",
    ),
}

ROOT = Path(__file__).resolve().parent.parent


def load(name: str) -> ModuleType:
    return importlib.import_module(BENCHMARKS[name][0])


def cache_dir() -> Path:
    """Where benchmarks keep their generated inputs between runs (var/ is not committed)."""
    return Path(os.environ.get("VAR_DIR", ROOT / "var")) / "bench"


@dataclass(frozen=True)
class Figure:
    """One measured figure for bench/RESULTS.md.

    `baseline` is what it is compared with: the name of another figure of the same benchmark,
    or a number in the same unit (a figure measured elsewhere); the report shows value/baseline.
    """

    name: str
    value: float
    unit: str
    baseline: str | float | None = None
    p50: float | None = None
    p95: float | None = None
    note: str = ""

    @classmethod
    def of_times(cls, name: str, times: list[float], unit: str = "ms", **fields) -> Figure:
        """The median of `times` as the value, with its p50 (the median) and p95."""
        median = statistics.median(times)
        return cls(name, median, unit, p50=median, p95=percentile(times, 95), **fields)


def percentile(values: list[float], percent: float) -> float:
    """The nearest-rank percentile (p95 of 20 values is the 19th smallest)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(percent / 100 * len(ordered))))
    return ordered[rank - 1]


@dataclass(frozen=True)
class Row:
    label: str
    per_item_ms: list[float]  # one figure per input (the median over the repeats)

    @property
    def total_ms(self) -> float:
        return sum(self.per_item_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.per_item_ms)


def print_table(rows: list[Row], *, baseline: str, out: TextIO, unit: str = "image") -> None:
    """A small fixed-width table: total, median and max per item, and the ratio to `baseline`."""
    base = next(row for row in rows if row.label == baseline)
    width = max(len(row.label) for row in rows)
    header = (
        f"{'':{width}}  {'total ms':>9}  {'ms/' + unit:>9}  {'max ms':>7}  "
        f"{'vs. ' + baseline.split(':')[0]:>10}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for row in rows:
        ratio = row.total_ms / base.total_ms if base.total_ms else float("nan")
        print(
            f"{row.label:{width}}  {row.total_ms:9.0f}  {row.median_ms:9.1f}  "
            f"{max(row.per_item_ms):7.1f}  {ratio:9.2f}x",
            file=out,
        )


@contextmanager
def bench_database(suffix: str, *, keep: bool = False) -> Iterator[None]:
    """A database of the benchmark's own next to the configured one (`<name>_bench_<suffix>`),
    migrated, with Django's test client allowed in; with `keep`, kept (and its rows) for the next
    run. The configured database itself is never written to."""
    from django.db import connection
    from django.test.utils import setup_test_environment, teardown_test_environment

    old_name = connection.settings_dict["NAME"]
    connection.settings_dict.setdefault("TEST", {})["NAME"] = f"{old_name}_bench_{suffix}"
    connection.creation.create_test_db(verbosity=0, keepdb=keep, serialize=False)
    setup_test_environment()
    try:
        yield
    finally:
        teardown_test_environment()
        connection.creation.destroy_test_db(old_name, verbosity=0, keepdb=keep)
