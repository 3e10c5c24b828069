"""The image classifier: what NudeNet's check adds to one generation, per 1024 px output.

Inputs are two 1024 x 1024 WebP pictures (quality 90, what Replicate returns by default), made
from scikit-image's bundled photos: the astronaut (a person, as an avatar output) and the
rocket on its pad (a landscape). Each is classified `--warmup` times unmeasured, then `--runs`
times; the table gives p50 and p95 per picture.

Rows:
- load: building the onnxruntime session for the 320n model (the first figure includes
  importing onnxruntime and nudenet; a worker process pays it once).
- image_classify: the whole call as the worker makes it (decode, detect, thresholds, the
  timeout thread).
- decode / detect: its two halves, Pillow's decode to an RGB array and NudeNet's detect().

onnxruntime runs on one thread, as in the worker.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import TextIO

from bench import Row

SIZE = 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", type=int, default=20, help="measured runs per picture (20)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured runs first (3)")
    parser.add_argument("--loads", type=int, default=5, help="model loads measured (5)")


def pictures() -> dict[str, bytes]:
    from PIL import Image

    from tests import photos  # scikit-image is a development dependency

    astronaut = photos.source("astronaut").resize((SIZE, SIZE), Image.Resampling.LANCZOS)
    landscape = photos.scene("rocket", (SIZE, SIZE))
    return {
        "astronaut": photos.encode(astronaut, "WEBP", quality=90),
        "landscape": photos.encode(landscape, "WEBP", quality=90),
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _times_ms(function: Callable[[], object], *, runs: int, warmup: int) -> list[float]:
    for _ in range(warmup):
        function()
    times = []
    for _ in range(max(1, runs)):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return times


def run(args: argparse.Namespace, out: TextIO) -> list[Row]:
    """Rows hold one figure per run (ms), not per picture: the table shows p50 and p95."""
    from moderation import classifier

    loads = []
    for _ in range(max(1, args.loads)):
        start = time.perf_counter()
        classifier._load_detector()
        loads.append((time.perf_counter() - start) * 1000)
    rows = [Row("load: first (imports + session)", loads[:1])]
    if len(loads) > 1:
        rows.append(Row("load: again (session)", loads[1:]))

    model = classifier.detector()
    for name, data in pictures().items():
        verdict = classifier.image_classify(data).verdict
        array = classifier._decode(data)
        for label, function in (
            (f"image_classify ({verdict})", lambda data=data: classifier.image_classify(data)),
            ("decode", lambda data=data: classifier._decode(data)),
            ("detect", lambda array=array: model.detect(array)),
        ):
            times = _times_ms(function, runs=args.runs, warmup=args.warmup)
            rows.append(Row(f"{name}: {label}", times))

    print(
        f"classifier: NudeNet 320n on onnxruntime (1 thread), {SIZE}x{SIZE} WebP pictures; "
        f"{args.runs} runs after {args.warmup} warm-up runs; {args.loads} model loads "
        f"(the first includes the imports).",
        file=out,
    )
    width = max(len(row.label) for row in rows)
    header = f"{'':{width}}  {'p50 ms':>7}  {'p95 ms':>7}  {'min ms':>7}  {'max ms':>7}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for row in rows:
        times = row.per_item_ms
        print(
            f"{row.label:{width}}  {statistics.median(times):7.1f}  "
            f"{percentile(times, 0.95):7.1f}  {min(times):7.1f}  {max(times):7.1f}",
            file=out,
        )
    return rows
