"""The likeness benchmark keeps running: a quick run on one photo, one output, a 2-photo report;
its report compares each "+ ..." row with the plain one and says what faces add, in ms."""

from __future__ import annotations

import io
import json

from bench.__main__ import main

ADDED = (
    "faces add per photo 512 px",
    "faces add per photo 1024 px",
    "likeness adds per output",
    "identity adds to a 2-photo report",
)


def test_the_likeness_benchmark_runs_on_one_photo(tmp_path):
    out = io.StringIO()
    report = tmp_path / "RESULTS.md"
    argv = [
        "--report",
        str(report),
        "likeness",
        "--photos",
        "1",
        "--outputs",
        "1",
        "--report-photos",
        "2",
        "--repeat",
        "1",
    ]
    assert main(argv, out=out) == 0

    text = out.getvalue()
    for label in (
        "photo 512 px + faces",
        "photo 1024 px + faces",
        "output 1024 px + likeness",
        "report, 2 photos + identity",
        *ADDED,
    ):
        assert label in text
    assert "(2 faces in the 2 photos)" in text

    (section,) = json.loads(report.with_suffix(".json").read_text())["sections"]
    figures = {figure["name"]: figure for figure in section["figures"]}
    assert figures["photo 512 px + faces"]["baseline"] == "photo 512 px"
    assert figures["photo 1024 px + faces"]["baseline"] == "photo 1024 px"
    assert figures["output 1024 px + likeness"]["baseline"] == "output 1024 px"
    assert figures["report, 2 photos + identity"]["baseline"] == "report, 2 photos"
    for name, plain, more in zip(
        ADDED,
        ("photo 512 px", "photo 1024 px", "output 1024 px", "report, 2 photos"),
        (
            "photo 512 px + faces",
            "photo 1024 px + faces",
            "output 1024 px + likeness",
            "report, 2 photos + identity",
        ),
        strict=True,
    ):
        added = figures[name]
        assert added["unit"] == "ms"
        assert added["value"] == figures[more]["p50"] - figures[plain]["p50"]
    # The ratio column is filled for each "+ ..." row.
    rows = {line.split(" | ")[0].lstrip("| "): line for line in report.read_text().splitlines()}
    for name in ("photo 512 px + faces", "output 1024 px + likeness"):
        assert rows[name].rstrip(" |").endswith("×"), rows[name]
