"""The simple service's benchmark keeps running: a small run of it (a real gunicorn, worker and
simulator, so it is slow), whose callers beyond the cap are answered 202."""

from __future__ import annotations

import io

import pytest

from bench.__main__ import main


@pytest.mark.slow
def test_the_simple_image_benchmark_runs_small():
    out = io.StringIO()
    argv = ["simple_image", "--waiters", "6", "--requests", "20", "--clients", "2"]
    assert main([*argv, "--images", "3", "--wait", "5"], out=out) == 0
    text = out.getvalue()
    assert "gunicorn 2 workers x 4 threads" in text
    table = [line.split() for line in text.splitlines() if line.startswith(("idle ", "6 waiters "))]
    assert [row[:2] for row in table] == [["idle", "20"], ["6", "waiters"]]
    assert table[1][2] == "20"  # every gallery request answered, none timed out
    assert "answered 202" in text
