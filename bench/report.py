"""bench/RESULTS.md: every benchmark's figures from one `make bench`, with the machine they ran on.

Each benchmark runs several times (three by default); a figure is the median of its runs, and
p50/p95 likewise. The ratio is value / baseline: below 1 a time is shorter than its baseline's,
above 1 a rate is higher.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench import ROOT, Figure, percentile
from bench.goals import goals_check, goals_markdown

SERVICES = {"DATABASE_URL": "PostgreSQL", "REDIS_URL": "Redis"}


@dataclass(frozen=True)
class Machine:
    cores: int
    memory_gb: float
    load: tuple[float, float, float]
    python: str

    @classmethod
    def this(cls) -> Machine:
        return cls(
            cores=os.cpu_count() or 1,
            memory_gb=_memory_gb(),
            load=os.getloadavg(),
            python=platform.python_version(),
        )

    def line(self) -> str:
        one, five, fifteen = self.load
        return (
            f"{self.cores} cores, {self.memory_gb:.1f} GB memory, load average "
            f"{one:.2f} / {five:.2f} / {fifteen:.2f} at the start, Python {self.python}"
        )


@dataclass
class Section:
    """One benchmark's table: its figures (medians over `runs`), or why it has none."""

    name: str
    description: str
    figures: list[Figure] = field(default_factory=list)
    runs: int = 0
    seconds: float = 0.0
    skipped: str = ""  # why it did not run (a service it needs is not configured, an error)
    requires: tuple[str, ...] = ()


def _memory_gb() -> float:
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    return 0.0


def commit_of(root: Path = ROOT) -> str:
    """The commit measured, and whether the working tree differed from it."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        # The report itself is not a change to what was measured.
        dirty = subprocess.run(
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":(exclude)bench/RESULTS.md",
                ":(exclude)bench/RESULTS.json",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head} with uncommitted changes" if dirty else head


def figures_of(rows: Iterable, *, baseline: str | None = None) -> list[Figure]:
    """A benchmark's rows as Figures: a Figure as it is, a Row of per-item times as its total
    (with p50/p95 per item) compared with the `baseline` row, anything else with a name (or
    label), a value and a unit read from its attributes."""
    figures = []
    for row in rows:
        if isinstance(row, Figure):
            figures.append(row)
        elif hasattr(row, "per_item_ms"):
            times = list(row.per_item_ms)
            figures.append(
                Figure(
                    name=row.label,
                    value=sum(times),
                    unit="ms total",
                    baseline=baseline if baseline and baseline != row.label else None,
                    p50=statistics.median(times) if times else None,
                    p95=percentile(times, 95) if times else None,
                )
            )
        else:
            figures.append(
                Figure(
                    name=getattr(row, "name", None) or row.label,
                    value=float(row.value),
                    unit=getattr(row, "unit", ""),
                    baseline=getattr(row, "baseline", None),
                    p50=getattr(row, "p50", None),
                    p95=getattr(row, "p95", None),
                    note=getattr(row, "note", "") or "",
                )
            )
    return figures


def _median(values: Sequence[float | None]) -> float | None:
    known = [value for value in values if value is not None]
    return statistics.median(known) if known else None


def median_of_runs(runs: Sequence[Sequence[Figure]]) -> list[Figure]:
    """One Figure per name, in the order of the first run: the median of each measure over the
    runs that have it."""
    order: list[str] = []
    by_name: dict[str, list[Figure]] = {}
    for figures in runs:
        for figure in figures:
            if figure.name not in by_name:
                order.append(figure.name)
                by_name[figure.name] = []
            by_name[figure.name].append(figure)
    merged = []
    for name in order:
        same = by_name[name]
        merged.append(
            replace(
                same[0],
                value=_median([figure.value for figure in same]),
                p50=_median([figure.p50 for figure in same]),
                p95=_median([figure.p95 for figure in same]),
            )
        )
    return merged


def ratio_of(figure: Figure, figures: Sequence[Figure]) -> float | None:
    """value / baseline, the baseline being another figure's value (by name) or a number."""
    baseline = figure.baseline
    if isinstance(baseline, str):
        baseline = next((other.value for other in figures if other.name == baseline), None)
    if baseline is None or not baseline:
        return None
    return figure.value / float(baseline)


def _number(value: float | None) -> str:
    if value is None:
        return ""
    if value != 0 and abs(value) < 10:
        return f"{value:.3g}" if abs(value) < 1 else f"{value:.2f}"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def section_markdown(section: Section) -> str:
    lines = [f"## {section.name}", "", _cell(section.description)]
    if section.requires:
        services = " and ".join(
            dict.fromkeys(SERVICES.get(variable, variable) for variable in section.requires)
        )
        lines += ["", f"Needs {services} ({', '.join(section.requires)})."]
    if section.skipped:
        return "\n".join([*lines, "", f"**Skipped:** {_cell(section.skipped)}", ""])
    lines += [
        "",
        f"Median of {section.runs} run{'s' if section.runs != 1 else ''} "
        f"({section.seconds:.0f} s in all).",
        "",
        "| figure | value | unit | p50 | p95 | baseline | ratio |",
        "|---|---:|---|---:|---:|---|---:|",
    ]
    for figure in section.figures:
        ratio = ratio_of(figure, section.figures)
        baseline = figure.baseline
        baseline_text = _number(baseline) if isinstance(baseline, int | float) else baseline or ""
        name = figure.name + (f" ({figure.note})" if figure.note else "")
        lines.append(
            f"| {_cell(name)} | {_number(figure.value)} | {_cell(figure.unit)} "
            f"| {_number(figure.p50)} | {_number(figure.p95)} | {_cell(baseline_text)} "
            f"| {f'{ratio:.2f}×' if ratio is not None else ''} |"
        )
    return "\n".join([*lines, ""])


def report_markdown(
    sections: Sequence[Section],
    *,
    machine: Machine,
    commit: str,
    date: datetime.datetime,
) -> str:
    head = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench --report bench/RESULTS.md`); do not edit.",
        "",
        f"- Machine: {machine.line()}",
        f"- Date: {date.astimezone(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- Commit: {commit}",
        "- Ratio: value / baseline (below 1: shorter than the baseline; for a rate, above 1 is "
        "more). p50/p95 are over the items or requests of one run, then the median of the runs.",
        "",
    ]
    by_benchmark = {section.name: section.figures for section in sections}
    goals = goals_markdown(goals_check(by_benchmark, ratio_of))
    return "\n".join([*head, goals, *[section_markdown(section) for section in sections]])


def report_write(path: Path, sections: Sequence[Section], *, machine: Machine) -> None:
    """RESULTS.md, and beside it the figures as JSON (RESULTS.json), from which the report can
    be written again (`python -m bench --rewrite`) when only its wording or goals change."""
    commit, date = commit_of(), datetime.datetime.now(datetime.UTC)
    path.write_text(report_markdown(sections, machine=machine, commit=commit, date=date), "utf-8")
    record = {
        "machine": dataclasses.asdict(machine),
        "commit": commit,
        "date": date.isoformat(),
        "sections": [dataclasses.asdict(section) for section in sections],
    }
    path.with_suffix(".json").write_text(json.dumps(record, indent=1) + "\n", "utf-8")


def report_rewrite(path: Path) -> None:
    """RESULTS.md written again from RESULTS.json: the same figures, machine, commit and date,
    with this checkout's wording and goals."""
    record = json.loads(path.with_suffix(".json").read_text("utf-8"))
    machine = record["machine"]
    sections = [
        Section(
            **{
                **section,
                "figures": [Figure(**figure) for figure in section["figures"]],
                "requires": tuple(section["requires"]),
            }
        )
        for section in record["sections"]
    ]
    text = report_markdown(
        sections,
        machine=Machine(**{**machine, "load": tuple(machine["load"])}),
        commit=record["commit"],
        date=datetime.datetime.fromisoformat(record["date"]),
    )
    path.write_text(text, "utf-8")
