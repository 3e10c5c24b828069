"""The benchmarks are not part of the suite, but they must keep running: a quick run on 2 photos."""

from __future__ import annotations

import io

import bench
from bench import preprocess
from bench.__main__ import main


def test_every_registered_benchmark_loads():
    for name in bench.BENCHMARKS:
        module = bench.load(name)
        assert callable(module.add_arguments)
        assert callable(module.run)


def test_the_preprocess_benchmark_runs_on_two_photos(tmp_path):
    out = io.StringIO()
    argv = ["preprocess", "--images", "2", "--size", "2048x1536", "--repeat", "1"]
    assert main([*argv, "--cache-dir", str(tmp_path)], out=out) == 0

    text = out.getvalue()
    assert "2 JPEG photos of 2048x1536" in text
    assert "Draft decodes them at 1024x768" in text
    for label in (preprocess.BASELINE, "draft: reduced decode + resize", "normalise_image"):
        assert label in text
    assert sorted(p.name for p in (tmp_path / "photos-2048x1536").iterdir()) == [
        "00.jpg",
        "01.jpg",
    ]
