"""Preprocessing of dataset photos: `normalise_image` against a plain decode and resize.

The inputs are phone-sized JPEGs (20 of 4000 x 3000 by default, quality 90, with EXIF and GPS
as a phone writes them) made deterministically from scikit-image's bundled photos by
tests/photos.py, and kept under var/bench/ so later runs skip making them.

Rows:
- plain: the whole image decoded, then resized to the training size (Lanczos). The baseline.
- draft: the same, but libjpeg decodes at a reduced scale first (Image.draft).
- normalise_image: what the dataset pipeline runs (draft decoding, orientation, sRGB, the JPEG
  training copy and the WebP thumbnail), without the quality measurements.
- normalise_image + quality: the same with faces, sharpness and perceptual hash.
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from PIL import Image

from bench import Row, cache_dir, print_table
from trainings.imaging import normalise_image

BASELINE = "plain: full decode + resize"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=int, default=20, help="number of photos (20)")
    parser.add_argument(
        "--size", type=_size, default=(4000, 3000), help="photo size, WxH (4000x3000)"
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per photo; the median counts")
    parser.add_argument("--long-side", type=int, default=1024, help="training size (1024)")
    parser.add_argument("--cache-dir", type=Path, default=None, help="where the photos are kept")


def _size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def photo_files(count: int, size: tuple[int, int], directory: Path) -> list[Path]:
    """The benchmark's photos, made once and reused."""
    from tests import photos  # scikit-image is a development dependency

    folder = directory / f"photos-{size[0]}x{size[1]}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"{index:02d}.jpg"
        if not path.exists():
            data = photos.jpeg(photos.large_photo(index, size), quality=90, gps=True)
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


def draft_decode_resize(data: bytes, long_side: int) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    target = _fit(image.size, long_side)
    image.draft("RGB", target)
    image.load()
    return image.convert("RGB").resize(target, Image.Resampling.LANCZOS)


def run(args: argparse.Namespace, out: TextIO) -> list[Row]:
    directory = args.cache_dir or cache_dir()
    started = time.perf_counter()
    paths = photo_files(args.images, args.size, directory)
    made = time.perf_counter() - started
    inputs = [path.read_bytes() for path in paths]
    long_side = args.long_side

    variants: list[tuple[str, Callable[[bytes], object]]] = [
        (BASELINE, lambda data: plain_decode_resize(data, long_side)),
        ("draft: reduced decode + resize", lambda data: draft_decode_resize(data, long_side)),
        (
            "normalise_image",
            lambda data: normalise_image(data, long_side=long_side, measure=False),
        ),
        (
            "normalise_image + quality",
            lambda data: normalise_image(data, long_side=long_side, measure=True),
        ),
    ]
    for _, function in variants:  # warm up: imports, cascades, codec tables
        function(inputs[0])

    rows = []
    for label, function in variants:
        per_image = []
        for data in inputs:
            times = []
            for _ in range(max(1, args.repeat)):
                start = time.perf_counter()
                function(data)
                times.append((time.perf_counter() - start) * 1000)
            per_image.append(statistics.median(times))
        rows.append(Row(label, per_image))

    probe = Image.open(io.BytesIO(inputs[0]))
    probe.draft("RGB", _fit(probe.size, long_side))
    megabytes = sum(len(data) for data in inputs) / len(inputs) / 1e6
    print(
        f"preprocess: {len(inputs)} JPEG photos of {args.size[0]}x{args.size[1]} "
        f"({megabytes:.1f} MB each on average) to {long_side} px; median of {args.repeat} "
        f"runs per photo. Draft decodes them at {probe.size[0]}x{probe.size[1]}. "
        f"Inputs in {paths[0].parent}" + (f" (made in {made:.1f} s)." if made > 1 else "."),
        file=out,
    )
    print_table(rows, baseline=BASELINE, out=out)
    return rows
