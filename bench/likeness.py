"""Face identity (likeness): what computing face vectors adds per photo, per output, and to the
quality report of 30 photos.

Inputs are real photos of different people (tests/people.py): the owner (scikit-image's
astronaut, in several framings) and six strangers cut from insightface's group photo, as phone
JPEGs of 1536 x 1536 (quality 90); outputs are 1024 x 1024 WebP pictures (quality 90, what
Replicate returns by default). They are made in memory; the group photo is downloaded once into
var/test-data/.

Tables (each row's figure is the median of --repeat runs per input; the ratio is against the
first row of its table, and in bench/RESULTS.md each "+ ..." row has the plain row above it as its
baseline):
- photo, 512 px and 1024 px training copy: `normalise_image` as the worker runs it (decode,
  copy, thumbnail, quality measurements), without then with the faces (`find_faces`).
- output, 1024 px: `output_process` as storing an output runs it, without then with the small
  copy for faces and its likeness score against the owner's identity.
- report, 30 photos: `build_report` over stored measurements, without then with the identity
  checks over the stored faces (each set built once, the report timed --repeat times).

What faces add is a figure of its own, in ms: "faces add per photo 512 px" and "... 1024 px",
"likeness adds per output" and "identity adds to a 30-photo report", each the p50 per item of
the "+ ..." row minus that of the plain row (the difference of the p50s, not the p50 of the
differences: each input's time is the median of its --repeat runs, then the p50 is over inputs).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from collections.abc import Callable
from typing import TextIO

from bench import Figure, Row, print_table
from bench.report import figures_of

PHOTO_SIDE = 1536
OUTPUT_SIDE = 1024


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--photos", type=int, default=10, help="photos per size (10)")
    parser.add_argument("--outputs", type=int, default=6, help="1024 px outputs (6)")
    parser.add_argument("--report-photos", type=int, default=30, help="photos in the report (30)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per input; the median counts")


def _people(count: int, side: int) -> list:
    """`count` pictures: the owner's framings and strangers in turn, mirrored past the first
    ten (so that no two are the same picture). Made only as many as asked for."""
    from tests import people  # scikit-image and the group photo: development only

    makers = [lambda i=i: people.owner(i, size=side) for i in (0, 3, 4, 2)] + [
        lambda i=i: people.stranger(i, size=side) for i in range(6)
    ]
    pictures = [makers[i % len(makers)]() for i in range(min(count, len(makers)))]
    return [
        pictures[i] if i < len(pictures) else people.mirrored(pictures[i % len(pictures)])
        for i in range(count)
    ]


def _encode(picture, format: str, **options) -> bytes:
    buffer = io.BytesIO()
    picture.convert("RGB").save(buffer, format, **options)
    return buffer.getvalue()


def _median_ms(function: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(max(1, repeat)):
        start = time.perf_counter()
        function()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _rows(variants, inputs, repeat: int) -> list[Row]:
    for _, function in variants:  # warm up: dlib's models, codecs, cascades
        function(inputs[0])
    rows = []
    for label, function in variants:
        per_input = [_median_ms(lambda d=data, f=function: f(d), repeat) for data in inputs]
        rows.append(Row(label, per_input))
    return rows


def _print(title: str, rows: list[Row], out: TextIO, unit: str, added: str) -> list[Figure]:
    """Print the table and what the second row adds to the first; return both rows and that
    difference as Figures, each "+ ..." row against the plain one."""
    print(f"\n{title}", file=out)
    print_table(rows, baseline=rows[0].label, out=out, unit=unit)
    plain, more = rows[0], rows[1]
    difference = more.median_ms - plain.median_ms
    print(f"{added}: {difference:.1f} ms (difference of the p50s per {unit})", file=out)
    # A third row (the identity alone) is a part of the second: compared with it.
    figures = figures_of(rows[:2], baseline=plain.label) + figures_of(rows[2:], baseline=more.label)
    return [*figures, Figure(added, difference, "ms", note="difference of p50s")]


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    from likeness.identity import main_identity
    from likeness.scoring import picture_likeness
    from trainings.imaging import normalise_image
    from trainings.quality import report as quality

    started = time.perf_counter()
    photos = [_encode(p, "JPEG", quality=90) for p in _people(args.photos, PHOTO_SIDE)]
    outputs = [_encode(p, "WEBP", quality=90) for p in _people(args.outputs, OUTPUT_SIDE)]
    made = time.perf_counter() - started
    print(
        f"likeness: {len(photos)} JPEG photos of {PHOTO_SIDE}x{PHOTO_SIDE} (the owner and six "
        f"strangers), {len(outputs)} WebP outputs of {OUTPUT_SIDE}x{OUTPUT_SIDE}, "
        f"{args.report_photos} photos in the report; median of {args.repeat} runs each "
        f"(inputs made in {made:.1f} s).",
        file=out,
    )
    figures: list[Figure] = []

    for side in (512, 1024):
        table = _rows(
            [
                (f"photo {side} px", lambda d, s=side: normalise_image(d, long_side=s)),
                (
                    f"photo {side} px + faces",
                    lambda d, s=side: normalise_image(d, long_side=s, find_faces=True),
                ),
            ],
            photos,
            args.repeat,
        )
        title = f"Dataset photo, {side} px training copy"
        figures += _print(title, table, out, "photo", f"faces add per photo {side} px")

    from gallery.imaging import output_process

    owner_photo = normalise_image(photos[0], long_side=512, find_faces=True)
    identity = owner_photo.faces[0].vector

    def scored(data: bytes):
        stored = output_process(data, description="bench", face_copy=True)
        return picture_likeness(stored.face_picture, identity=identity)

    table = _rows(
        [
            ("output 1024 px", lambda d: output_process(d, description="bench")),
            ("output 1024 px + likeness", scored),
        ],
        outputs,
        args.repeat,
    )
    figures += _print(
        "Generated picture, 1024 px", table, out, "output", "likeness adds per output"
    )

    # The report reads what the worker stored: measurements and faces of each photo.
    measured = [
        normalise_image(_encode(p, "JPEG", quality=90), long_side=512, find_faces=True)
        for p in _people(args.report_photos, 768)
    ]

    def images(with_faces: bool) -> list:
        return [
            quality.ReportImage(
                name=f"{index:02d}.jpg",
                measurements=result.measurements,
                faces=tuple(result.faces or ()) if with_faces else None,
            )
            for index, result in enumerate(measured)
        ]

    plain, with_faces = images(False), images(True)
    table = [
        Row(
            f"report, {len(measured)} photos",
            [_median_ms(lambda: quality.build_report(plain), args.repeat)],
        ),
        Row(
            f"report, {len(measured)} photos + identity",
            [_median_ms(lambda: quality.build_report(with_faces, face_consent=True), args.repeat)],
        ),
        Row(
            "main identity alone",
            [
                _median_ms(
                    lambda: main_identity([list(i.faces or ()) for i in with_faces]), args.repeat
                )
            ],
        ),
    ]
    count = len(measured)
    figures += _print(
        f"Quality report of {count} photos with faces",
        table,
        out,
        "report",
        f"identity adds to a {count}-photo report",
    )
    faces = sum(len(i.faces or ()) for i in with_faces)
    print(f"({faces} faces in the {count} photos)", file=out)
    return figures
