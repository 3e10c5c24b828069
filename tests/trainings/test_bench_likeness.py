"""The likeness benchmark keeps running: a quick run on one photo, one output, a 2-photo report."""

from __future__ import annotations

import io

from bench.__main__ import main


def test_the_likeness_benchmark_runs_on_one_photo():
    out = io.StringIO()
    argv = ["likeness", "--photos", "1", "--outputs", "1", "--report-photos", "2", "--repeat", "1"]
    assert main(argv, out=out) == 0

    text = out.getvalue()
    for label in (
        "photo 512 px + faces",
        "photo 1024 px + faces",
        "output 1024 px + likeness",
        "report, 2 photos + identity",
    ):
        assert label in text
    assert text.count("faces add") == 4
    assert "(2 faces in the 2 photos)" in text
