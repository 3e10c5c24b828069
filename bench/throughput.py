"""Pictures a minute for 50 people at once, each waiting for their picture, against the seed's
design (one blocking `replicate.run` per process).

Starts the site as Procfile.production does (gunicorn 2 x 4; an io worker of 4 processes and a
cpu worker of 2, tasks routed by shape; `--workers single`: the Procfile's one worker of 2) and
the Replicate simulator with its default 5-second predictions (1 s starting + 4 s processing),
on PostgreSQL and Redis (`--database-url`, `--redis-url`: databases of its own, see
service_arguments). Each of `--users` people loops:
submit one picture (`POST /api/v1/generations/` on the default model), then look at the
generation every `--poll` seconds until its picture is listed. A row counts the pictures listed
in `--seconds` after a warm-up.

Rows: pictures/min, with the simulator in memory and with `--data-dir` (as `make run` starts
it); the submit answer's p50/p95 under that load; and the seed's design: one process that
serves one prediction at a time (create, then poll until it ends, as `replicate.run` does), the
same users queued on it, against the same simulator.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

from bench import Figure, percentile
from bench.simple_image import Site
from tests.simulator_fixtures import start_simulator, wait_until

PROMPT = "a lighthouse on a cliff at dawn"
REQUIRES = ("DATABASE_URL", "REDIS_URL")
# Processes of each worker with --workers queues: Procfile.production's defaults.
WORKER_IO_CONCURRENCY, WORKER_CPU_CONCURRENCY = 4, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=50, help="people at once (50)")
    parser.add_argument("--seconds", type=float, default=40.0, help="measured seconds a row")
    parser.add_argument("--warmup", type=float, default=8.0, help="seconds before counting")
    parser.add_argument("--baseline-seconds", type=float, default=30.0)
    parser.add_argument(
        "--modes", default="memory,data-dir", help="simulator modes: memory, data-dir"
    )
    parser.add_argument(
        "--poll", type=float, default=1.0, help="seconds between a person's two looks (1)"
    )
    parser.add_argument(
        "--workers",
        choices=("queues", "single"),
        default="queues",
        help="queues: an io and a cpu worker, as Procfile.production runs them (default); "
        "single: one worker of 2 processes on every queue, as the Procfile of `make run`",
    )
    service_arguments(parser, name="throughput", redis_db=12)


def service_arguments(parser: argparse.ArgumentParser, *, name: str, redis_db: int) -> None:
    """`--database-url`: a PostgreSQL database of the benchmark's own, created and dropped
    (DATABASE_URL + `_bench_<name>`); `--redis-url`: a Redis database of its own on REDIS_URL's
    server, flushed and used for broker and cache. Never REDIS_URL's own database: `make bench`
    itself uses it, and flushing it would drop the queues its own process declared."""
    parser.add_argument(
        "--database-url",
        default=_own(os.environ.get("DATABASE_URL", ""), f"_bench_{name}"),
        help=f"PostgreSQL database to create, use and drop (DATABASE_URL + _bench_{name})",
    )
    parser.add_argument(
        "--redis-url",
        default=_own(os.environ.get("REDIS_URL", ""), f"/{redis_db}"),
        help=f"Redis database to flush and use (REDIS_URL's server, db {redis_db})",
    )


def _own(url: str, suffix: str) -> str:
    """A database of the benchmark's own on the server of `url`."""
    if not url:
        return ""
    base, _, name = url.rpartition("/")
    return f"{base}/{name}{suffix}" if suffix.startswith("_") else base + suffix


def seed_users(count: int) -> None:
    """Run in the site's database (`manage.py shell`): `count` people on a plan without limits,
    with credits; prints their access tokens as JSON."""
    from accounts.models import Plan
    from accounts.services import credits_grant, user_tokens_issue
    from tests.factories import UserFactory

    plan = Plan.objects.create(name="Throughput benchmark (no limits)")
    tokens = []
    for number in range(count):
        user = UserFactory(email=f"user{number}@throughput.example", plan=plan)
        credits_grant(user=user, amount=1_000_000, reason="Benchmark")
        tokens.append(user_tokens_issue(user=user)["access"])
    print(json.dumps(tokens))


@dataclass
class SiteOnServices(Site):
    """The benchmark site on PostgreSQL and Redis, as production runs it."""

    database_url: str = ""
    redis_url: str = ""
    simulator_args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(
            **{
                "DATABASE_URL": self.database_url,
                "REDIS_URL": self.redis_url,
                # The cache in the same database (its keys are prefixed): the site would
                # otherwise take the next one, which may be someone else's.
                "REDIS_CACHE_URL": self.redis_url,
                **self.extra_env,
                **extra,
            }
        )

    def start_simulator(self) -> None:
        self.simulator = start_simulator(self.var_dir / "logs", *self.simulator_args)

    def start_workers(self, layout: str) -> None:
        """`single`: the Procfile's one worker; `queues`: Procfile.production's two."""
        if layout == "single":
            self.start_worker()
            return
        self.extra_env["TASK_QUEUES_BY_SHAPE"] = "1"  # the web process routes by shape too
        for name, queues, concurrency in (
            ("worker-io", "io,celery", WORKER_IO_CONCURRENCY),
            ("worker-cpu", "cpu", WORKER_CPU_CONCURRENCY),
        ):
            log = self._start(
                name,
                [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
                 "--queues", queues, "--concurrency", str(concurrency), "--hostname",
                 f"{name}@%h", "--without-gossip", "--without-mingle"],
            )  # fmt: skip
            wait_until(lambda log=log: " ready." in log.read_text(errors="replace"), 60, 0.2, name)


def _database(url: str, *, create: bool) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            admin.execute(f'CREATE DATABASE "{name}"')


def _redis_flush(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


@dataclass
class Load:
    """People who each submit a picture and wait until it is listed, again and again."""

    url: str
    tokens: list[str]
    poll: float = 1.0
    stop: threading.Event = field(default_factory=threading.Event)
    listed: list[float] = field(default_factory=list)  # monotonic time of each listed picture
    submit_ms: list[tuple[float, float]] = field(default_factory=list)  # (when, ms)
    errors: list[str] = field(default_factory=list)
    # Process groups to account CPU time to over the measured window (name: group leader).
    groups: dict[str, int] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds in the window, by group
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def person(self, token: str) -> None:
        with httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30) as client:
            while not self.stop.is_set():
                started = time.perf_counter()
                try:
                    answer = client.post(
                        f"{self.url}/api/v1/generations/",
                        json={"prompt": PROMPT, "num_outputs": 1, "output_format": "webp"},
                    )
                except httpx.HTTPError as error:
                    self.errors.append(f"submit: {error!r}")
                    continue
                elapsed = (time.perf_counter() - started) * 1000
                if answer.status_code != 201:
                    with self._lock:
                        self.errors.append(f"submit {answer.status_code}: {answer.text[:200]}")
                    self.stop.wait(1)
                    continue
                with self._lock:
                    self.submit_ms.append((time.monotonic(), elapsed))
                detail_url = answer.json()["generations"][0]["url"]
                while not self.stop.wait(self.poll):
                    try:
                        detail = client.get(detail_url).json()
                    except (httpx.HTTPError, ValueError):
                        continue
                    # Succeeded: its picture is listed, or held by the classifier (never
                    # listed to its owner), which would otherwise leave this person waiting.
                    if detail.get("images") or detail.get("status") == "succeeded":
                        with self._lock:
                            self.listed.append(time.monotonic())
                        break
                    if detail.get("status") in ("failed", "canceled"):
                        with self._lock:
                            self.errors.append(f"generation {detail.get('status')}")
                        break

    def measure(self, *, warmup: float, seconds: float) -> tuple[float, list[float]]:
        threads = [
            threading.Thread(target=self.person, args=(t,), daemon=True) for t in self.tokens
        ]
        for thread in threads:
            thread.start()
        time.sleep(warmup)
        cpu_before = _cpu_seconds(self.groups)
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
        cpu_after = _cpu_seconds(self.groups)
        self.cpu = {name: cpu_after[name] - cpu_before[name] for name in self.groups}
        self.stop.set()
        for thread in threads:
            thread.join(timeout=10)
        pictures = sum(1 for moment in self.listed if start <= moment < end)
        submits = [ms for moment, ms in self.submit_ms if start <= moment < end]
        return pictures * 60 / (end - start), submits


def _cpu_seconds(groups: dict[str, int]) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the live processes of each process group
    (Linux /proc). Wall times on a shared machine vary with its load; the CPU a picture costs
    varies much less, so it is what tells two versions apart."""
    ticks = os.sysconf("SC_CLK_TCK")
    totals = dict.fromkeys(groups, 0.0)
    leaders = {leader: name for name, leader in groups.items()}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        name = leaders.get(int(fields[2]))  # the process group
        if name is not None:
            totals[name] += (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
    return totals


def seed_design(simulator, *, users: int, seconds: float) -> float:
    """The seed's service: one process, one `replicate.run` at a time (create a prediction and
    poll it until it ends), with `users` callers queued on it. Pictures a minute."""
    headers = {"Authorization": f"Bearer {simulator.token}"}
    done: list[float] = []
    one_at_a_time = threading.Lock()
    stop = threading.Event()

    def caller() -> None:
        with httpx.Client(base_url=simulator.base_url, headers=headers, timeout=30) as client:
            while not stop.is_set():
                with one_at_a_time:
                    if stop.is_set():
                        return
                    prediction = client.post(
                        "/v1/models/black-forest-labs/flux-schnell/predictions",
                        json={"input": {"prompt": PROMPT, "num_outputs": 1}},
                    ).json()
                    while prediction.get("status") not in ("succeeded", "failed", "canceled"):
                        time.sleep(0.5)  # the replicate client's polling interval
                        prediction = client.get(f"/v1/predictions/{prediction['id']}").json()
                    client.get(prediction["output"][0]).raise_for_status()
                    done.append(time.monotonic())

    threads = [threading.Thread(target=caller, daemon=True) for _ in range(users)]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    end = time.monotonic()
    stop.set()
    return sum(1 for moment in done if start <= moment < end) * 60 / (end - start)


def _run_mode(
    args, mode: str
) -> tuple[float, list[float], list[str], float | None, dict[str, float]]:
    _database(args.database_url, create=True)
    _redis_flush(args.redis_url)
    try:
        with tempfile.TemporaryDirectory(prefix="avatars-throughput-") as directory:
            var_dir = Path(directory)
            simulator_args = (
                ("--data-dir", str(var_dir / "simulator")) if mode == "data-dir" else ()
            )
            site = SiteOnServices(
                var_dir,
                wait=25.0,
                database_url=args.database_url,
                redis_url=args.redis_url,
                simulator_args=simulator_args,
            )
            (var_dir / "logs").mkdir()
            try:
                site.start_simulator()
                site.manage("migrate", "--noinput", "-v", "0")
                seeded = site.manage(
                    "shell",
                    "-c",
                    f"from bench.throughput import seed_users; seed_users({args.users})",
                )
                tokens = json.loads(seeded.strip().splitlines()[-1])
                site.start_workers(args.workers)
                site.start_web()
                load = Load(
                    site.url,
                    tokens,
                    poll=args.poll,
                    groups={
                        name: process.pid  # each started in a session (a group) of its own
                        for name, process in site.processes.items()
                    },
                )
                per_minute, submits = load.measure(warmup=args.warmup, seconds=args.seconds)
                baseline = None
                if mode == "memory" and args.baseline_seconds > 0:
                    baseline = seed_design(
                        site.simulator, users=args.users, seconds=args.baseline_seconds
                    )
                return per_minute, submits, load.errors, baseline, load.cpu
            finally:
                site.stop()
    finally:
        _database(args.database_url, create=False)


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    figures: list[Figure] = []
    notes: list[str] = []
    baseline_value = None
    for mode in args.modes.split(","):
        per_minute, submits, errors, baseline, cpu = _run_mode(args, mode)
        if baseline is not None:
            baseline_value = baseline
            figures.append(
                Figure("seed's design (one replicate.run per process)", baseline, "pictures/min")
            )
        figures.append(
            Figure(
                f"{args.users} users, simulator {mode}",
                per_minute,
                "pictures/min",
                baseline="seed's design (one replicate.run per process)"
                if baseline_value is not None
                else None,
            )
        )
        if submits:
            figures.append(
                Figure(
                    f"submit answer, simulator {mode}",
                    statistics.median(submits),
                    "ms",
                    p50=percentile(submits, 50),
                    p95=percentile(submits, 95),
                    note=f"{len(submits)} submits",
                )
            )
        pictures = per_minute * args.seconds / 60
        for name, seconds in sorted(cpu.items()):
            if pictures:
                figures.append(
                    Figure(
                        f"{name} CPU a picture, simulator {mode}",
                        seconds * 1000 / pictures,
                        "ms",
                        note=f"{seconds:.1f} s CPU over {pictures:.0f} pictures",
                    )
                )
        if errors:
            notes.append(f"{mode}: {len(errors)} errors, first: {errors[0]}")
    print(
        f"throughput: {args.users} people each submit one picture and wait until it is listed; "
        f"{args.seconds:.0f} s counted after {args.warmup:.0f} s; simulator predictions 5 s; "
        f"a look every {args.poll:g} s; workers: {args.workers}.",
        file=out,
    )
    print_figures(figures, out=out)
    for note in notes:
        print(note, file=out)
    return figures


def print_figures(figures: list[Figure], *, out: TextIO) -> None:
    values = {figure.name: figure.value for figure in figures}
    width = max(len(figure.name) for figure in figures)
    header = f"{'':{width}}  {'value':>9}  {'unit':<12}  {'p50':>7}  {'p95':>7}  {'ratio':>7}"
    print(header, file=out)
    print("-" * len(header), file=out)
    for figure in figures:
        base = values.get(figure.baseline) if isinstance(figure.baseline, str) else figure.baseline
        ratio = f"{figure.value / base:6.1f}x" if base else ""
        p50 = f"{figure.p50:7.1f}" if figure.p50 is not None else ""
        p95 = f"{figure.p95:7.1f}" if figure.p95 is not None else ""
        print(
            f"{figure.name:{width}}  {figure.value:9.1f}  {figure.unit:<12}  {p50:>7}  {p95:>7}  "
            f"{ratio:>7}  {figure.note}",
            file=out,
        )
