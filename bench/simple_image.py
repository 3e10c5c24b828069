"""Callers waiting on the simple service (`POST /api/v1/image/{model}`) do not slow the gallery.

Starts the site as the Procfile does, on loopback and in a temporary VAR_DIR: gunicorn
(`config.wsgi`, 2 workers x 4 threads), a Celery worker and the Replicate simulator, whose
predictions take longer than the benchmark so that no picture is ever ready. One person has a
gallery; another calls the simple service. Then GET /api/v1/images/ (a page of the gallery) is
timed from a few clients:

- idle: nobody else is using the site;
- N waiters: while N callers POST /api/v1/image/default. A few wait (the per-process cap); the
  others get 202 at once and poll the Location they were given every Retry-After seconds, as
  a client should;
- N waiters, no cap (--uncapped): the same with the cap lifted, i.e. the endpoint as it was
  before the cap. Requests that time out (--timeout) count at the timeout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import httpx

from bench import ROOT, Row
from tests.simulator_fixtures import SimulatorProcess, start_simulator, wait_until

IDLE = "idle"
BASELINE = IDLE  # the rows with callers waiting are compared with the gallery alone
WORKERS, THREADS = 2, 4  # as in the Procfile
# Variables that would point the site at real services: the benchmark never uses them.
_FOREIGN = ("DJANGO_", "DATABASE_", "REDIS_", "CELERY_", "AWS_", "REPLICATE_", "EMAIL_URL")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--waiters", type=int, default=50, help="callers of the service (50)")
    parser.add_argument("--requests", type=int, default=200, help="gallery requests a row (200)")
    parser.add_argument("--clients", type=int, default=4, help="gallery clients at once (4)")
    parser.add_argument("--images", type=int, default=30, help="pictures in the gallery (30)")
    parser.add_argument(
        "--wait", type=float, default=25.0, help="GENERATION_SYNC_WAIT_SECONDS of the site (25)"
    )
    parser.add_argument(
        "--uncapped", action="store_true", help="add a row with the waiter cap lifted (+25 s)"
    )
    parser.add_argument(
        "--timeout", type=float, default=10.0, help="seconds before a gallery request gives up"
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Site:
    """The site's processes and where they write, all under `var_dir`."""

    var_dir: Path
    wait: float
    port: int = field(default_factory=_free_port)
    simulator: SimulatorProcess | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(_FOREIGN)}
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings.local",
            VAR_DIR=str(self.var_dir),
            PORT=str(self.port),
            PUBLIC_BASE_URL=self.url,
            REPLICATE_BASE_URL=self.simulator.base_url,
            REPLICATE_SIMULATOR_TOKEN=self.simulator.token,
            REPLICATE_WEBHOOK_SECRET=self.simulator.webhook_secret,
            REPLICATE_OWNER=self.simulator.owner,
            GENERATION_SYNC_WAIT_SECONDS=str(self.wait),
            # One caller sends every request: the rates are not what is measured.
            API_THROTTLE_GENERATION="1000000/hour",
            API_THROTTLE_USER="1000000/min",
            LOG_LEVEL="WARNING",
            PYTHONUNBUFFERED="1",
            **extra,
        )
        return env

    def start_simulator(self) -> None:
        # Predictions outlast the benchmark: every caller of the service has to wait.
        self.simulator = start_simulator(
            self.var_dir / "logs", "--prediction-seconds", "600", "--data-dir", str(self.var_dir)
        )

    def manage(self, *command: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=self.env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode:
            raise RuntimeError(f"manage.py {command[0]} failed:\n{done.stdout}{done.stderr}")
        return done.stdout

    def _start(self, name: str, command: list[str], **extra: str) -> Path:
        log_path = self.var_dir / "logs" / f"{name}.log"
        with open(log_path, "ab") as log:
            self.processes[name] = subprocess.Popen(
                command,
                cwd=ROOT,
                env=self.env(**extra),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return log_path

    def start_worker(self) -> None:
        log = self._start(
            "worker",
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--loglevel", "INFO",
             "--concurrency", "2", "--without-gossip", "--without-mingle"],
        )  # fmt: skip
        wait_until(lambda: " ready." in log.read_text(errors="replace"), 60, 0.2, "no worker")

    def start_web(self, **extra: str) -> None:
        self.stop("web")
        log = self._start(
            "web",
            [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{self.port}",
             "--workers", str(WORKERS), "--threads", str(THREADS), "--log-level", "warning"],
            **extra,
        )  # fmt: skip

        def healthy() -> bool:
            if self.processes["web"].poll() is not None:
                raise RuntimeError(f"gunicorn exited:\n{log.read_text(errors='replace')}")
            try:
                return httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, 60, 0.2, "gunicorn did not answer")

    def stop(self, name: str | None = None) -> None:
        for key in [name] if name else list(self.processes):
            process = self.processes.pop(key, None)
            if process is None:
                continue
            # Quick shutdowns: gunicorn's INT does not wait for the callers still waiting, and
            # Celery's QUIT not for the tasks under way (nothing here needs them finished).
            process.send_signal(signal.SIGINT if key == "web" else signal.SIGQUIT)
            try:
                process.wait(timeout=3)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)  # its own group: it and its children
                process.wait(timeout=5)
        if name is None and self.simulator is not None:
            self.simulator.stop()


@dataclass
class Waiters:
    """`count` callers of the simple service, each in its own thread, until `stop` is set."""

    url: str
    token: str
    count: int
    stop: threading.Event = field(default_factory=threading.Event)
    answers: list[tuple[int, float]] = field(default_factory=list)  # (status, ms) of each POST
    polls: Counter = field(default_factory=Counter)  # status of each poll of Location
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def call(self, timeout: float) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(headers=headers, timeout=timeout) as client:
            started = time.perf_counter()
            try:
                response = client.post(
                    f"{self.url}/api/v1/image/default", json={"prompt": "a lighthouse at dawn"}
                )
            except httpx.HTTPError:
                return  # still waiting when the site stopped
            with self._lock:
                self.answers.append((response.status_code, (time.perf_counter() - started) * 1e3))
            if response.status_code != 202:
                return
            pause = float(response.headers.get("Retry-After", "2"))
            while not self.stop.wait(pause):
                try:
                    status = client.get(response.headers["Location"]).status_code
                except httpx.HTTPError:
                    return
                with self._lock:
                    self.polls[status] += 1

    @contextlib.contextmanager
    def running(self, timeout: float) -> Iterator[Waiters]:
        threads = [
            threading.Thread(target=self.call, args=(timeout,), daemon=True)
            for _ in range(self.count)
        ]
        for thread in threads:
            thread.start()
        try:
            yield self
        finally:
            self.stop.set()

    def summary(self) -> str:
        statuses = Counter(status for status, _ in self.answers)
        accepted = [ms for status, ms in self.answers if status == 202]
        waiting = self.count - len(self.answers)
        text = f"{self.count} callers: {waiting} still waiting when the row ended"
        if accepted:
            text += (
                f", {len(accepted)} answered 202 (median {statistics.median(accepted):.0f} ms, "
                f"max {max(accepted):.0f} ms)"
            )
        others = {status: n for status, n in statuses.items() if status != 202}
        if others:
            text += f", others: {dict(others)}"
        if self.polls:
            text += f"; polls of Location: {dict(self.polls)}"
        return text


def gallery_latencies(
    url: str, token: str, *, requests: int, clients: int, timeout: float
) -> list[float]:
    """Milliseconds of each GET /api/v1/images/ from `clients` clients at once; a request that
    times out counts as `timeout`. The row ends after `requests` or about 2 x `timeout` s."""
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + 2 * timeout
    remaining = [requests]

    def client_loop() -> None:
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(headers=headers, timeout=timeout) as client:
            while time.monotonic() < deadline:
                with lock:
                    if remaining[0] <= 0:
                        return
                    remaining[0] -= 1
                started = time.perf_counter()
                try:
                    response = client.get(f"{url}/api/v1/images/")
                    response.raise_for_status()
                    elapsed = (time.perf_counter() - started) * 1000
                except httpx.TimeoutException:
                    elapsed = timeout * 1000
                with lock:
                    latencies.append(elapsed)

    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def percentile(values: list[float], percent: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def print_rows(rows: list[Row], *, out: TextIO, timeout: float) -> None:
    base = rows[0]
    base_p50, base_p95 = base.median_ms, percentile(base.per_item_ms, 95)
    width = max(len(row.label) for row in rows)
    header = (
        f"{'':{width}}  {'requests':>8}  {'p50 ms':>7}  {'p95 ms':>7}  {'max ms':>7}  "
        f"{'p50 vs. idle':>12}  {'p95 vs. idle':>12}"
    )
    print(header, file=out)
    print("-" * len(header), file=out)
    for row in rows:
        p50, p95 = row.median_ms, percentile(row.per_item_ms, 95)
        timed_out = sum(1 for ms in row.per_item_ms if ms >= timeout * 1000)
        note = f"  ({timed_out} timed out at {timeout:.0f} s)" if timed_out else ""
        print(
            f"{row.label:{width}}  {len(row.per_item_ms):8d}  {p50:7.1f}  {p95:7.1f}  "
            f"{max(row.per_item_ms):7.1f}  {p50 / base_p50:11.2f}x  {p95 / base_p95:11.2f}x{note}",
            file=out,
        )


def run(args: argparse.Namespace, out: TextIO) -> list[Row]:
    started = time.monotonic()
    rows: list[Row] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="avatars-bench-") as directory:
        site = Site(Path(directory), wait=args.wait)
        (site.var_dir / "logs").mkdir()
        try:
            site.start_simulator()
            site.manage("migrate", "--noinput", "-v", "0")
            seeded = site.manage(
                "shell", "-c", f"from bench.site_seed import seed; seed({args.images})"
            )
            tokens = json.loads(seeded.strip().splitlines()[-1])
            site.start_worker()
            site.start_web()
            measure = {
                "requests": args.requests,
                "clients": args.clients,
                "timeout": args.timeout,
            }
            gallery_latencies(site.url, tokens["viewer"], **{**measure, "requests": 20})  # warm
            rows.append(Row(IDLE, gallery_latencies(site.url, tokens["viewer"], **measure)))

            waiters = Waiters(site.url, tokens["caller"], args.waiters)
            with waiters.running(timeout=args.wait + 30):
                wait_until(lambda: len(waiters.answers) >= args.waiters - WORKERS, 30, 0.05)
                rows.append(
                    Row(
                        f"{args.waiters} waiters",
                        gallery_latencies(site.url, tokens["viewer"], **measure),
                    )
                )
            notes.append(f"{args.waiters} waiters: {waiters.summary()}")

            if args.uncapped:
                site.start_web(GENERATION_SYNC_MAX_WAITERS=str(args.waiters * 10))
                uncapped = Waiters(site.url, tokens["caller"], args.waiters)
                with uncapped.running(timeout=args.wait + 30):
                    time.sleep(1.0)  # every caller has sent its request
                    rows.append(
                        Row(
                            f"{args.waiters} waiters, no cap",
                            gallery_latencies(site.url, tokens["viewer"], **measure),
                        )
                    )
                notes.append(f"{args.waiters} waiters, no cap: {uncapped.summary()}")
        finally:
            site.stop()

    print(
        f"simple_image: GET /api/v1/images/ ({args.images} pictures a page) from {args.clients} "
        f"clients, up to {args.requests} requests a row, while callers wait on "
        f"POST /api/v1/image/default. Site: gunicorn {WORKERS} workers x {THREADS} threads, "
        f"a Celery worker and the simulator on loopback; wait {args.wait:.0f} s, waiter cap "
        f"{max(1, THREADS // 4)} a worker. {time.monotonic() - started:.0f} s in all.",
        file=out,
    )
    print_rows(rows, out=out, timeout=args.timeout)
    for note in notes:
        print(note, file=out)
    return rows
