"""`python -m bench simulator` keeps running: a quick run on small stores."""

import argparse
import io

from bench import simulator


def test_the_simulator_benchmark_measures_changes_and_the_old_full_rewrite():
    parser = argparse.ArgumentParser()
    simulator.add_arguments(parser)
    args = parser.parse_args(["--jobs", "20,300", "--changes", "20", "--rewrites", "2"])
    out = io.StringIO()
    figures = simulator.run(args, out)

    by_name = {figure.name: figure for figure in figures}
    assert set(by_name) == {
        f"{name}, {count} jobs"
        for name in (
            "change",
            "lock held per change",
            "full rewrite (before)",
            "lock held per full rewrite (before)",
        )
        for count in (20, 300)
    }
    assert by_name["change, 300 jobs"].baseline == "change, 20 jobs"
    assert by_name["full rewrite (before), 300 jobs"].baseline == "change, 300 jobs"
    assert all(figure.value > 0 and figure.unit == "ms" for figure in figures)
    assert "state.json would be 0.4 MB" in out.getvalue()
