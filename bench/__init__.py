"""Benchmarks, run with `make bench` (`python -m bench`); not part of the test suite.

One module per benchmark. Register it in BENCHMARKS below; the module provides
`add_arguments(parser)` (its options) and `run(args, out) -> list[Row]` (it prints its own table
to `out` and returns the rows, which a test can check).
"""

from __future__ import annotations

import importlib
import os
import statistics
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TextIO

# name -> (module, one-line description)
BENCHMARKS: dict[str, tuple[str, str]] = {
    "preprocess": (
        "bench.preprocess",
        "dataset photo normalisation (draft decoding) vs. a plain decode and resize",
    ),
    "simple_image": (
        "bench.simple_image",
        "gallery API latency with 50 callers waiting on POST /api/v1/image/{model} (gunicorn)",
    ),
    "classifier": ("bench.classifier", "image classifier (NudeNet) time per 1024 px output"),
    "prompt_rules": ("bench.prompt_rules", "prompt rules: time 1,000 rules add per prompt"),
    "likeness": (
        "bench.likeness",
        "face identity: time faces add per photo (512/1024 px), per output, to a 30-photo report",
    ),
}

ROOT = Path(__file__).resolve().parent.parent


def load(name: str) -> ModuleType:
    return importlib.import_module(BENCHMARKS[name][0])


def cache_dir() -> Path:
    """Where benchmarks keep their generated inputs between runs (var/ is not committed)."""
    return Path(os.environ.get("VAR_DIR", ROOT / "var")) / "bench"


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
