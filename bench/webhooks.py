"""Signed webhooks accepted per second, with 10% duplicates shuffled in: 0 lost, 0 double-applied.

Needs PostgreSQL and Redis (DATABASE_URL and REDIS_URL, as .ci/run sets them): it creates,
uses and drops a database of its own next to DATABASE_URL's, and flushes a Redis database of
its own (db 14 and 15 of REDIS_URL's server).

Starts the site as the Procfile does (gunicorn 2 workers x 4 threads, a Celery worker of
concurrency 2, the simulator for its settings) on that database and Redis. Each row seeds
`--jobs` generations that Replicate is running, then sends each two signed webhooks, its `start`
(processing) and its `completed` one (failed: a completion without outputs to download, so the
row measures the intake, not the picture pipeline), plus 10% of them a second time (the same
`webhook-id`, as Replicate's retries), all shuffled, from `--senders` threads with keep-alive
connections. Figures: accepted webhooks per second (new ones, answered 200), p50/p95 of every
answer, and gunicorn's CPU per answer (user + system time of its processes, from /proc, while
the row is sent: the issue's "< 1 ms a webhook", which the rate hides on a busy machine). Then,
once the worker has drained the queue, it checks that every generation failed (0 lost) and has
exactly one `generation.failed` event (0 double-applied), and that each webhook id was accepted
once and recorded once.

The floor: what one webhook cannot do without, measured alone in this process on the same
database and Redis: the HMAC check, one INSERT … ON CONFLICT DO NOTHING in autocommit, one
task sent to the broker.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import os
import random
import statistics
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from bench import Figure, percentile
from bench.throughput import (
    REQUIRES,
    SiteOnServices,
    _database,
    _redis_flush,
    print_figures,
    service_arguments,
)

__all__ = ["REQUIRES", "add_arguments", "run"]

BASELINE_10 = 361.0  # webhooks/s at 10 senders, measured by the reviewer before this pass
BASELINE_50 = 387.0
DUPLICATES = 0.10
PATH = "/webhooks/replicate/?kind=prediction"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--jobs", type=int, default=1500, help="generations a row (1500)")
    parser.add_argument("--senders", default="10,50", help="concurrent senders, rows (10,50)")
    parser.add_argument("--floor", type=int, default=2000, help="webhooks in the floor (2000)")
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to wait for the worker")
    service_arguments(parser, name="webhooks", redis_db=14)


def seed_jobs(count: int, tag: str) -> None:
    """Run in the site's database (`manage.py shell`): `count` generations Replicate is running,
    with replicate ids `p_<tag>_<n>`."""
    from gallery.models import Generation
    from tests.factories import UserFactory
    from tests.gallery.factories import make_generation

    user = UserFactory(email=f"webhooks-{tag}@bench.example")
    for number in range(count):
        make_generation(user, status=Generation.Status.STARTING, replicate_id=f"p_{tag}_{number}")


def outcome(tag: str) -> None:
    """Run in the site's database: how the seeded generations ended, as JSON."""
    from django.db.models import Count

    from core.models import WebhookDelivery
    from events.models import Event
    from gallery.models import Generation

    jobs = Generation.objects.filter(replicate_id__startswith=f"p_{tag}_")
    failed_events = Counter(
        Event.objects.filter(
            type="generation.failed", owner__email=f"webhooks-{tag}@bench.example"
        ).values_list("data__id", flat=True)
    )
    print(
        json.dumps(
            {
                "jobs": jobs.count(),
                "failed": jobs.filter(status=Generation.Status.FAILED).count(),
                "events": sum(failed_events.values()),
                "doubled": sum(1 for n in failed_events.values() if n > 1),
                "deliveries": WebhookDelivery.objects.filter(
                    remote_id__startswith=f"p_{tag}_"
                ).count(),
                "repeated_ids": WebhookDelivery.objects.values("webhook_id")
                .annotate(n=Count("id"))
                .filter(n__gt=1)
                .count(),
            }
        )
    )


def _signed(secret: str, webhook_id: str, body: bytes) -> dict[str, str]:
    key = base64.b64decode(secret.partition("_")[2])
    timestamp = str(int(time.time()))
    digest = hmac.new(key, f"{webhook_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": "v1," + base64.b64encode(digest).decode(),
        "Content-Type": "application/json",
    }


def messages(secret: str, tag: str, jobs: int) -> list[tuple[str, bytes, dict[str, str]]]:
    """Two events per job, 10% of all sent twice, shuffled: (webhook id, body, headers)."""
    unique = []
    for number in range(jobs):
        remote_id = f"p_{tag}_{number}"
        for status, extra in (
            ("processing", {"started_at": "2026-01-01T00:00:00Z"}),
            ("failed", {"error": "CUDA out of memory", "completed_at": "2026-01-01T00:00:05Z"}),
        ):
            body = json.dumps(
                {"id": remote_id, "status": status, "model": "a/b", "input": {}, **extra}
            ).encode()
            webhook_id = f"msg_{uuid.uuid4().hex}"
            unique.append((webhook_id, body, _signed(secret, webhook_id, body)))
    sent = unique + random.sample(unique, round(len(unique) * DUPLICATES))
    random.shuffle(sent)
    return sent


def send(url: str, sent: list, senders: int) -> tuple[float, list[float], dict[int, int]]:
    """Send `sent` from `senders` threads; (seconds, answer ms, count by status)."""
    host = urlsplit(url)
    queue = list(reversed(sent))
    lock = threading.Lock()
    times: list[float] = []
    statuses: dict[int, int] = {}

    def sender() -> None:
        connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
        while True:
            with lock:
                if not queue:
                    break
                _, body, headers = queue.pop()
            started = time.perf_counter()
            try:
                connection.request("POST", PATH, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
                status = 0
            elapsed = (time.perf_counter() - started) * 1e3
            with lock:
                times.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=sender) for _ in range(senders)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, times, statuses


def web_cpu_seconds(site) -> float:
    """CPU seconds gunicorn (its master and workers) has used so far, from /proc."""
    master = site.processes["web"].pid
    pids = [master]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rpartition(")")[2].split()[1]) == master:  # its parent
                pids.append(int(entry.name))
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def floor(site, *, count: int) -> tuple[float, float]:
    """ms of CPU and wall per webhook for HMAC + one INSERT + one enqueue, alone, in this
    process (wall: the three in sequence, as a receiver thread does them)."""
    import psycopg
    from celery import Celery

    key = base64.b64decode(site.simulator.webhook_secret.partition("_")[2])
    body = json.dumps({"id": "p_floor", "status": "processing"}).encode()
    app = Celery(broker=site.redis_url)
    with (
        psycopg.connect(
            site.database_url.replace("postgres://", "postgresql://"), autocommit=True
        ) as database,
        app.connection_for_write() as broker,
    ):
        producer = app.amqp.Producer(broker)
        cursor = psycopg.ClientCursor(database)  # as Django's: both statements in one message
        started, cpu = time.perf_counter(), time.process_time()
        for number in range(count):
            webhook_id = f"floor_{number}_{uuid.uuid4().hex[:8]}"
            expected = hmac.new(key, f"{webhook_id}.1.".encode() + body, hashlib.sha256).digest()
            hmac.compare_digest(expected, expected)
            cursor.execute(
                "SET LOCAL synchronous_commit TO off; INSERT INTO core_webhookdelivery"
                " (webhook_id, remote_id, remote_status, received_at) VALUES (%s, %s, %s, now())"
                " ON CONFLICT (webhook_id) DO NOTHING",
                [webhook_id, "p_floor", "processing"],
            )
            app.send_task(
                "core.remote_jobs.tasks.remote_job_refresh_task",
                args=["prediction", "p_floor"],
                queue="bench-floor",  # no worker reads it: dropped below
                producer=producer,
            )
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        database.execute("DELETE FROM core_webhookdelivery WHERE remote_id = 'p_floor'")
    import redis

    redis.Redis.from_url(site.redis_url).delete("bench-floor")
    return elapsed / count * 1e3, cpu / count * 1e3


def _drain(site, tag: str, expected_events: int, seconds: float) -> dict:
    deadline = time.monotonic() + seconds
    while True:
        result = json.loads(
            site.manage("shell", "-c", f"from bench.webhooks import outcome; outcome({tag!r})")
            .strip()
            .splitlines()[-1]
        )
        if result["failed"] >= expected_events and result["events"] >= expected_events:
            return result
        if time.monotonic() > deadline:
            return result
        time.sleep(1.0)


def _row(site, *, jobs: int, senders: int, drain: float) -> tuple[Figure, Figure, Figure, str]:
    tag = f"s{senders}_{uuid.uuid4().hex[:6]}"
    site.manage("shell", "-c", f"from bench.webhooks import seed_jobs; seed_jobs({jobs}, {tag!r})")
    sent = messages(site.simulator.webhook_secret, tag, jobs)
    unique = len({webhook_id for webhook_id, _, _ in sent})
    cpu = web_cpu_seconds(site)
    seconds, times, statuses = send(site.url, sent, senders)
    cpu = web_cpu_seconds(site) - cpu
    result = _drain(site, tag, jobs, drain)
    lost = jobs - result["failed"]
    doubled = result["doubled"] + max(0, statuses.get(200, 0) - unique)
    check = (
        f"{senders} senders: {len(sent)} sent ({unique} unique), answers {statuses}; "
        f"{lost} lost, {doubled} double-applied; {result['deliveries']} deliveries recorded"
    )
    baseline = BASELINE_10 if senders == 10 else BASELINE_50 if senders == 50 else None
    rate = Figure(
        f"accepted/s, {senders} senders",
        statuses.get(200, 0) / seconds,
        "webhooks/s",
        baseline=baseline,
        note=f"{lost} lost, {doubled} double",
    )
    latency = Figure(
        f"answer, {senders} senders",
        statistics.median(times),
        "ms",
        p50=percentile(times, 50),
        p95=percentile(times, 95),
        note=f"{len(times)} answers",
    )
    web_cpu = Figure(
        f"gunicorn CPU per answer, {senders} senders",
        cpu / len(times) * 1e3,
        "ms",
        note="master and workers, from /proc",
    )
    if lost or doubled or statuses.get(200, 0) != unique:
        raise RuntimeError(f"webhooks lost or applied twice: {check}")
    return rate, latency, web_cpu, check


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    _database(args.database_url, create=True)
    _redis_flush(args.redis_url)
    figures: list[Figure] = []
    checks: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="avatars-webhooks-") as directory:
            var_dir = Path(directory)
            (var_dir / "logs").mkdir()
            site = SiteOnServices(
                var_dir, wait=25.0, database_url=args.database_url, redis_url=args.redis_url
            )
            try:
                site.start_simulator()
                site.manage("migrate", "--noinput", "-v", "0")
                site.start_worker()
                site.start_web()
                for senders in [int(value) for value in args.senders.split(",")]:
                    rate, latency, web_cpu, check = _row(
                        site, jobs=args.jobs, senders=senders, drain=args.drain
                    )
                    figures += [rate, latency, web_cpu]
                    checks.append(check)
                wall, cpu = floor(site, count=args.floor)
                figures += [
                    Figure(
                        "floor: HMAC + INSERT + enqueue",
                        wall,
                        "ms/webhook",
                        note="alone, one thread, wall time",
                    ),
                    Figure("floor CPU: HMAC + INSERT + enqueue", cpu, "ms/webhook"),
                ]
            finally:
                site.stop()
    finally:
        _database(args.database_url, create=False)
    print(
        "webhooks: signed deliveries to gunicorn (2 workers x 4 threads) with a Celery worker, "
        f"PostgreSQL and Redis; {args.jobs} generations a row, 2 events each, 10% sent twice, "
        "shuffled; the ratio is to the reviewer's figure before this pass.",
        file=out,
    )
    print_figures(figures, out=out)
    for check in checks:
        print(check, file=out)
    return figures
