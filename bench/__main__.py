"""`python -m bench [NAME [options]]`: run one benchmark, or all of them with their defaults."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

import django

from bench import BENCHMARKS, load


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    # Benchmarks import project code that may read settings; the embedded defaults need no server.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    django.setup()

    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    commands = parser.add_subparsers(dest="name", metavar="NAME")
    for name, (_, description) in BENCHMARKS.items():
        load(name).add_arguments(commands.add_parser(name, help=description))
    args = parser.parse_args(argv)

    names = [args.name] if args.name else list(BENCHMARKS)
    for index, name in enumerate(names):
        if index:
            print(file=out)
        benchmark_args = args if args.name else parser.parse_args([name])
        load(name).run(benchmark_args, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
