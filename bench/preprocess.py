"""The dataset pipeline on phone photos: ours (`normalise_image` with the quality measurements)
against a plain decode and resize, in one process and on every core.

The inputs are phone-sized JPEGs (20 of 4000 x 3000 by default, quality 90) made
deterministically and kept under var/bench/ so later runs skip making them (the first run takes
minutes):
- person: photos of one person at close-up, half-body and full-body scale on different scenes
  (tests/trainings/portraits.py), what a dataset should be;
- mixed: crops of scikit-image's photos (tests/photos.py, with EXIF and GPS as a phone writes
  them), where 17 of 20 show no face: the face search's worst case, since a photo without a
  face is searched at every scale.

Rows, per set: `plain` decodes the whole image and resizes it to the training size (Lanczos), the
baseline; `ours` is what the dataset pipeline runs per photo (draft decoding, orientation, sRGB,
the JPEG training copy, the WebP thumbnail, sharpness, faces, perceptual hashes, colours), all
from one decode; `consent` adds what a dataset whose owner agreed to face processing also
computes, each face's identity vector (dlib's network: about 0.1 s a face). "1 process" runs
the photos one after another; "N processes" spreads them over a pool of one process per core, as
the Celery workers do. Each figure is the median of `--repeat` runs over the whole set; the
ratio is against plain in the same mode.
"""

from __future__ import annotations

import argparse
import functools
import io
import multiprocessing
import os
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TextIO

from PIL import Image

from bench import Figure, Row, cache_dir, print_table
from trainings.imaging import normalise_image

BASELINE = "plain: full decode + resize"
SETS = ("person", "mixed")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=int, default=20, help="number of photos per set (20)")
    parser.add_argument(
        "--size", type=_size, default=(4000, 3000), help="photo size, WxH (4000x3000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs of each set; the median counts")
    parser.add_argument("--long-side", type=int, default=1024, help="training size (1024)")
    parser.add_argument(
        "--processes", type=int, default=os.cpu_count() or 1, help="pool size (one per core)"
    )
    parser.add_argument("--sets", default=",".join(SETS), help="person, mixed or both")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the photos are kept")


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def photo_files(
    count: int, size: tuple[int, int], directory: Path, kind: str = "mixed"
) -> list[Path]:
    """The benchmark's photos of one set, made once and reused."""
    from tests import photos  # scikit-image is a development dependency
    from tests.trainings.portraits import portrait

    name = "photos" if kind == "mixed" else "person"
    folder = directory / f"{name}-{size[0]}x{size[1]}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{index:02d}.jpg"
        if not path.exists():
            if kind == "mixed":
                data = photos.jpeg(photos.large_photo(index, size), quality=90, gps=True)
            else:
                data = photos.jpeg(portrait(index, size), quality=90, gps=True)
            partial = path.with_suffix(".part")
            partial.write_bytes(data)
            partial.replace(path)
        paths.append(path)
    return paths


def _fit(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    scale = min(1.0, long_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def plain_decode_resize(data: bytes, long_side: int) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image.convert("RGB").resize(_fit(image.size, long_side), Image.Resampling.LANCZOS)


def ours(data: bytes, long_side: int) -> int:
    """The pipeline's work on one photo; the number of faces found."""
    result = normalise_image(data, long_side=long_side, measure=True)
    return result.measurements.face_count


def ours_with_face_vectors(data: bytes, long_side: int) -> None:
    """The same for a dataset whose owner agreed to face processing: also each face's identity
    vector (likeness.faces), what the one-person check compares."""
    normalise_image(data, long_side=long_side, measure=True, find_faces=True)


_PIPELINES: dict[str, Callable[[bytes, int], object]] = {
    "plain": plain_decode_resize,
    "ours": ours,
    "consent": ours_with_face_vectors,
}
_LABELS = {
    "plain": BASELINE,
    "ours": "ours: normalise + quality",
    "consent": "consent: ours + face vectors",
}


def _one(task: tuple[str, bytes, int]) -> object:
    name, data, long_side = task
    result = _PIPELINES[name](data, long_side)
    return result if isinstance(result, int) else None


def _timed_sets(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median wall time of `repeat` runs of each over the whole set, in milliseconds. The runs
    take turns (plain, ours, plain, ours...), so load from other processes on the machine
    falls on all of them alike instead of on whichever ran while it lasted."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(max(1, repeat)):
        for name, run_set in runs.items():
            start = time.perf_counter()
            run_set()
            times[name].append((time.perf_counter() - start) * 1000)
    return {name: statistics.median(values) for name, values in times.items()}


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    directory = args.cache_dir or cache_dir()
    long_side = args.long_side
    sets = [name.strip() for name in args.sets.split(",") if name.strip()]
    processes = max(1, args.processes)
    # fork: the workers inherit Django's settings and the imported modules, as Celery's do.
    context = multiprocessing.get_context("fork")
    figures: list[Figure] = []
    with ProcessPoolExecutor(processes, mp_context=context) as pool:
        for kind in sets:
            started = time.perf_counter()
            paths = photo_files(args.images, args.size, directory, kind)
            made = time.perf_counter() - started
            inputs = [path.read_bytes() for path in paths]
            count = len(inputs)
            warm = [(name, inputs[0], long_side) for name in _PIPELINES for _ in range(processes)]
            list(pool.map(_one, warm))  # imports, detector models, codec tables in every worker
            for name in _PIPELINES:
                _one((name, inputs[0], long_side))
            faces = [_one(("ours", data, long_side)) for data in inputs]

            def sequential(name, inputs=inputs):
                for data in inputs:
                    _PIPELINES[name](data, long_side)

            def pooled(name, inputs=inputs):
                list(pool.map(_one, [(name, data, long_side) for data in inputs]))

            set_rows = []
            for mode, run_set in (("1 process", sequential), (f"{processes} processes", pooled)):
                runs = {name: functools.partial(run_set, name) for name in _PIPELINES}
                for name, total in _timed_sets(runs, args.repeat).items():
                    label = f"{kind}, {mode}, {_LABELS[name]}"
                    set_rows.append(Row(label, [total / count] * count))
            with_face = sum(1 for n in faces if n)
            print(
                f"preprocess ({kind}): {count} JPEG photos of {args.size[0]}x{args.size[1]} "
                f"({sum(map(len, inputs)) / count / 1e6:.1f} MB each on average) to {long_side} "
                f"px; {with_face} of {count} with a face found; median of {args.repeat} runs of "
                f"the whole set. Inputs in {paths[0].parent}"
                + (f" (made in {made:.0f} s)." if made > 1 else "."),
                file=out,
            )
            for mode in ("1 process", f"{processes} processes"):
                mode_rows = [row for row in set_rows if f", {mode}, " in row.label]
                baseline = next(row.label for row in mode_rows if BASELINE in row.label)
                print_table(mode_rows, baseline=baseline, out=out, unit="photo")
            print(file=out)
            figures.extend(_figures(set_rows, kind=kind, count=count))
    return figures


def _figures(rows: list[Row], *, kind: str, count: int) -> list[Figure]:
    """The rows for the report: the wall time for the whole set, against plain in the same mode."""
    figures = []
    for row in rows:
        plain = row.label
        for label in _LABELS.values():
            plain = plain.replace(label, BASELINE)
        figures.append(
            Figure(
                name=row.label,
                value=round(row.total_ms, 1),
                unit=f"ms for {count} photos",
                baseline=None if plain == row.label else plain,
                p50=round(row.median_ms, 1),
                note=f"{kind} set, median of the runs" if plain != row.label else "",
            )
        )
    return figures
