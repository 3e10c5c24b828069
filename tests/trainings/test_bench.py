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
    assert main([*argv, "--processes", "2", "--cache-dir", str(tmp_path)], out=out) == 0

    text = out.getvalue()
    assert "preprocess (person): 2 JPEG photos of 2048x1536" in text
    # Both photos of the person set show her face; the first mixed photo is the astronaut's.
    assert "2 of 2 with a face found" in text
    assert "preprocess (mixed): 2 JPEG photos of 2048x1536" in text
    assert "1 of 2 with a face found" in text
    for kind in ("person", "mixed"):
        for mode in ("1 process", "2 processes"):
            for label in (preprocess.BASELINE, "ours: normalise + quality"):
                assert f"{kind}, {mode}, {label}" in text
    for folder in ("person-2048x1536", "photos-2048x1536"):
        assert sorted(p.name for p in (tmp_path / folder).iterdir()) == ["00.jpg", "01.jpg"]
