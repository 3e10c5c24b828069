"""bench/report.py: the RESULTS.md writer, on made-up figures."""

import datetime
import io
import sys
import types

import pytest

import bench
from bench import Figure, Row
from bench.__main__ import main
from bench.report import Machine, Section, figures_of, median_of_runs, report_markdown

MACHINE = Machine(cores=2, memory_gb=3.8, load=(1.5, 2.0, 2.5), python="3.12.3")
DATE = datetime.datetime(2026, 11, 30, 18, 5, tzinfo=datetime.UTC)


def _report(sections):
    return report_markdown(sections, machine=MACHINE, commit="abc123def456", date=DATE)


def test_a_table_per_benchmark_with_the_machine_date_commit_and_ratio():
    section = Section(
        name="gallery_api",
        description="the gallery API page",
        runs=3,
        seconds=12,
        figures=[
            Figure("OFFSET at depth", 44.0, "ms", p50=40.0, p95=48.0),
            Figure("keyset at depth", 2.0, "ms", baseline="OFFSET at depth", p50=1.9, p95=2.5),
            Figure("webhooks", 1200, "per s", baseline=361),
        ],
    )
    text = _report([section])

    assert "- Machine: 2 cores, 3.8 GB memory, load average 1.50 / 2.00 / 2.50" in text
    assert "- Date: 2026-11-30 18:05 UTC" in text
    assert "- Commit: abc123def456" in text
    assert "## gallery_api" in text
    assert "Median of 3 runs (12 s in all)." in text
    assert "| figure | value | unit | p50 | p95 | baseline | ratio |" in text
    assert "| keyset at depth | 2.00 | ms | 1.90 | 2.50 | OFFSET at depth | 0.05× |" in text
    assert "| webhooks | 1,200 | per s |  |  | 361 | 3.32× |" in text
    # The baseline itself has no ratio.
    assert "| OFFSET at depth | 44.0 | ms | 40.0 | 48.0 |  |  |" in text


def test_a_skipped_benchmark_says_what_it_needs_and_why():
    section = Section(
        name="webhooks",
        description="signed webhooks accepted per second",
        requires=("DATABASE_URL", "REDIS_URL"),
        skipped="DATABASE_URL and REDIS_URL not set.",
    )
    text = _report([section])
    assert "Needs PostgreSQL and Redis (DATABASE_URL, REDIS_URL)." in text
    assert "**Skipped:** DATABASE_URL and REDIS_URL not set." in text
    assert "| figure |" not in text


def test_per_item_rows_become_totals_with_p50_p95_against_the_modules_baseline():
    rows = [Row("plain", [10.0, 20.0, 30.0]), Row("draft", [1.0, 2.0, 3.0, 40.0])]
    plain, draft = figures_of(rows, baseline="plain")
    assert (plain.value, plain.baseline, plain.p50) == (60.0, None, 20.0)
    assert (draft.value, draft.baseline, draft.p50, draft.p95) == (46.0, "plain", 2.5, 40.0)
    assert "| draft | 46.0 | ms total | 2.50 | 40.0 | plain | 0.77× |" in _report(
        [Section(name="preprocess", description="d", runs=1, figures=[plain, draft])]
    )


def test_the_median_of_three_runs_per_figure():
    runs = [
        [Figure("a", 10, "ms", p95=30), Figure("b", 1, "ms")],
        [Figure("a", 50, "ms", p95=10), Figure("b", 2, "ms")],
        [Figure("a", 20, "ms", p95=20), Figure("b", 9, "ms")],
    ]
    a, b = median_of_runs(runs)
    assert (a.name, a.value, a.p95) == ("a", 20, 20)
    assert (b.name, b.value) == ("b", 2)


def test_make_bench_writes_the_report_and_skips_what_needs_postgresql(tmp_path, monkeypatch):
    calls = []

    def add_arguments(parser):
        parser.add_argument("--size", type=int, default=7)

    def fast_run(args, out):
        calls.append(args.size)
        print("a table", file=out)
        return [Figure("fast", float(len(calls)), "ms")]

    def needs_services_run(args, out):  # pragma: no cover - must not run
        raise AssertionError("ran without its services")

    fast = types.SimpleNamespace(add_arguments=add_arguments, run=fast_run)
    needy = types.SimpleNamespace(
        add_arguments=add_arguments, run=needs_services_run, REQUIRES=("BENCH_TEST_UNSET_URL",)
    )
    monkeypatch.setitem(sys.modules, "bench_fake_fast", fast)
    monkeypatch.setitem(sys.modules, "bench_fake_needy", needy)
    monkeypatch.delenv("BENCH_TEST_UNSET_URL", raising=False)
    monkeypatch.setattr(
        bench,
        "BENCHMARKS",
        {"fast": ("bench_fake_fast", "a fast one"), "needy": ("bench_fake_needy", "a needy one")},
    )
    report = tmp_path / "RESULTS.md"
    out = io.StringIO()

    assert main(["--runs", "3", "--report", str(report)], out=out) == 0

    assert calls == [7, 7, 7]
    text = report.read_text()
    assert "| fast | 2.00 | ms |" in text  # the median of 1, 2 and 3
    assert "**Skipped:** BENCH_TEST_UNSET_URL not set." in text
    assert "needy: skipped" in out.getvalue()


@pytest.mark.parametrize(("baseline", "shown"), [(None, ""), ("no such figure", "no such figure")])
def test_no_ratio_without_a_usable_baseline(baseline, shown):
    text = _report(
        [
            Section(
                name="x",
                description="d",
                runs=1,
                figures=[Figure("only", 5.0, "ms", baseline=baseline)],
            )
        ]
    )
    assert f"| only | 5.00 | ms |  |  | {shown} |  |" in text


def test_the_goals_say_met_or_not_and_quote_this_runs_figures_for_what_stands_in_the_way():
    from bench.goals import Goal, goals_check, goals_markdown
    from bench.report import ratio_of

    goals = [
        Goal("webhooks", r"accepted/s, \d+ senders", 1000, at_most=False, text="rate",
             obstacle="the floor is [[webhooks|floor]] alone, [[webhooks|floor|p95]] p95"),
        Goal("webhooks", "answer", 20, at_most=True, measure="p95", text="answer p95",
             obstacle="never shown when met"),
        Goal("gallery_api", "keyset", 0.1, at_most=True, measure="ratio", text="keyset ratio"),
        Goal("preprocess", "ours", 1200, at_most=True, text="pipeline"),
    ]  # fmt: skip
    figures = {
        "webhooks": [
            Figure("accepted/s, 10 senders", 640.0, "webhooks/s"),
            Figure("answer, 10 senders", 9.0, "ms", p95=18.0),
            Figure("floor: HMAC + INSERT + enqueue", 0.8, "ms/webhook", p95=1.5),
        ],
        "gallery_api": [
            Figure("OFFSET", 40.0, "ms"),
            Figure("keyset", 2.0, "ms", baseline="OFFSET"),
        ],
    }
    results = goals_check(figures, ratio_of, goals)
    assert [outcome.met for outcome, _ in results] == [False, True, True, None]
    assert [outcome.measured for outcome, _ in results] == [640.0, 18.0, 0.05, None]
    assert results[0][1] == "the floor is 0.8 ms/webhook alone, 1.50 ms/webhook p95"
    assert results[1][1] == ""

    table = goals_markdown(results)
    assert "| rate | webhooks | 640 webhooks/s | ≥ 1,000 webhooks/s | **no** | the floor" in table
    assert "| answer p95 | webhooks | 18.0 ms | p95 ≤ 20.0 ms | yes |  |" in table
    assert "| keyset ratio | gallery_api | 0.05× | ratio ≤ 0.1× | yes |  |" in table
    assert "| pipeline | preprocess |  | ≤ 1,200  | not measured |  |" in table


def test_the_report_opens_with_the_goals_of_the_issue():
    text = _report(
        [
            Section(
                name="completion",
                description="d",
                runs=1,
                figures=[Figure("final webhook to 4 pictures listed", 420.0, "ms (p95)", p95=420)],
            )
        ]
    )
    assert text.index("## Goals") < text.index("## completion")
    assert "| 420 ms (p95) | ≤ 500 ms (p95) | yes |" in text


def test_the_report_is_written_again_from_its_json_with_the_same_figures(tmp_path):
    from bench.report import report_write

    report = tmp_path / "RESULTS.md"
    sections = [
        Section(
            name="gallery_api",
            description="the gallery API page",
            runs=3,
            seconds=12,
            requires=("DATABASE_URL",),
            figures=[
                Figure("OFFSET", 44.0, "ms", p50=40.0, p95=48.0),
                Figure("keyset", 2.0, "ms", baseline="OFFSET", p50=1.9, p95=2.5, note="1 SQL"),
            ],
        ),
        Section(name="webhooks", description="d", skipped="REDIS_URL not set."),
    ]
    report_write(report, sections, machine=MACHINE)
    written = report.read_text()
    report.write_text("stale wording")

    assert main(["--report", str(report), "--rewrite"], out=io.StringIO()) == 0

    assert report.read_text() == written
    assert "| keyset (1 SQL) | 2.00 | ms | 1.90 | 2.50 | OFFSET | 0.05× |" in written
