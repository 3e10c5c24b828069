"""`python -m bench [--runs N] [--report PATH] [--skip A,B] [NAME [options]]`: run one benchmark,
or all of them with their defaults; with `--report`, each runs N times (the medians go there)."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path
from typing import TextIO

import django

import bench
from bench import load


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    # Benchmarks import project code that may read settings; the embedded defaults need no server.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()
    from bench.report import (
        Machine,
        Section,
        figures_of,
        median_of_runs,
        report_rewrite,
        report_write,
    )

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--runs", type=int, default=1, help="runs of each benchmark (1)")
    parser.add_argument("--report", type=Path, default=None, help="write the medians there")
    parser.add_argument(
        "--skip", default="", help="benchmarks to leave out, comma-separated (e.g. simple_image)"
    )
    commands = parser.add_subparsers(dest="name", metavar="NAME")
    for name, (_, description) in bench.BENCHMARKS.items():
        load(name).add_arguments(commands.add_parser(name, help=description))
    parser.add_argument(
        "--rewrite",
        action="store_true",
        help="write --report again from its .json (same figures; this checkout's goals), no run",
    )
    args = parser.parse_args(argv)
    if args.rewrite:
        if args.report is None:
            parser.error("--rewrite needs --report")
        report_rewrite(args.report)
        print(f"Rewrote {args.report} from {args.report.with_suffix('.json')}", file=out)
        return 0

    machine = Machine.this()  # before the benchmarks load it
    skipped = {name.strip() for name in args.skip.split(",") if name.strip()}
    names = [args.name] if args.name else list(bench.BENCHMARKS)
    sections = []
    for index, name in enumerate(names):
        if index:
            print(file=out)
        module = load(name)
        section = Section(
            name=name,
            description=bench.BENCHMARKS[name][1],
            requires=tuple(getattr(module, "REQUIRES", ())),
        )
        sections.append(section)
        if name in skipped:
            section.skipped = "left out of this run (--skip)."
            continue
        missing = [variable for variable in section.requires if not os.environ.get(variable)]
        if missing:
            section.skipped = f"{' and '.join(missing)} not set."
            print(f"{name}: skipped, {section.skipped}", file=out)
            continue
        benchmark_args = args if args.name else parser.parse_args([name])
        started = time.monotonic()
        runs = []
        try:
            for _ in range(max(1, args.runs)):
                rows = module.run(benchmark_args, out)
                runs.append(figures_of(rows or [], baseline=getattr(module, "BASELINE", None)))
        except Exception as error:  # one broken benchmark must not lose the others' figures
            if args.report is None:
                raise
            traceback.print_exc()
            section.skipped = f"failed after {len(runs)} run(s): {type(error).__name__}: {error}"
        section.seconds = time.monotonic() - started
        section.runs = len(runs)
        section.figures = median_of_runs(runs)
        if args.report is not None:  # after each one: a run cut short keeps what it measured
            report_write(args.report, sections, machine=machine)

    if args.report is not None:
        report_write(args.report, sections, machine=machine)
        print(f"\nWrote {args.report}", file=out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
