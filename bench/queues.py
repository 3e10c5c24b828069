"""An I/O task's wait during a burst of photo processing: one shared queue vs. a queue per shape.

Two worker processes either way (one task at a time each, `--pool solo`), on Redis and a
PostgreSQL database of the benchmark's own. `--photos` phone-sized photos without a face (the
slowest kind for the face search) are queued for processing; once the burst runs, an I/O task
(`webhook_delivery_prune_task`, one DELETE) is sent every `--every` seconds, and its wait is
timed from the send to its row being gone; only those sent while photos still wait or run
count (at least the first one does).

- shared: both workers consume one queue (what a single worker set does): the I/O task waits
  for a photo to finish.
- by shape: `TASK_QUEUES_BY_SHAPE`, one worker on `io`, one on `cpu` (Procfile.production).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import TextIO

from bench import ROOT, Figure, bench_database, percentile

REQUIRES = ("DATABASE_URL", "REDIS_URL")
BASELINE = "shared queue: I/O task wait"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--photos", type=int, default=4, help="photos in the burst (4)")
    parser.add_argument("--probes", type=int, default=5, help="I/O tasks sent during it (5)")
    parser.add_argument("--every", type=float, default=0.5, help="seconds between them (0.5)")


def _photos(count: int) -> list[tuple[str, bytes]]:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(7)
    small = Image.fromarray(rng.integers(0, 255, (150, 200, 3), dtype=np.uint8))
    scene = small.resize((2000, 1500), Image.Resampling.BICUBIC)
    photos = []
    for index in range(count):
        buffer = io.BytesIO()
        scene.rotate(index * 3).save(buffer, "JPEG", quality=88)
        photos.append((f"photo-{index}.jpg", buffer.getvalue()))
    return photos


def _worker(queues: str, env: dict[str, str], log_path: Path) -> subprocess.Popen:
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo",
             "--queues", queues, "--loglevel", "INFO",
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 60
    while " ready." not in log_path.read_text(errors="replace"):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the worker did not start:\n{log_path.read_text()}")
        time.sleep(0.1)
    return process


def _one_mode(*, by_shape: bool, args, owner, folder: Path) -> list[float]:
    from django.conf import settings
    from django.utils import timezone

    from config.celery import app as celery_app
    from core.models import WebhookDelivery
    from core.tasks import webhook_delivery_prune_task
    from tests.worker_fixtures import connection_database_url
    from trainings.models import Dataset, DatasetImage
    from trainings.services import dataset_delete, dataset_images_add

    tag = uuid.uuid4().hex[:10]
    names = {"default": f"bench-{tag}", "io": f"bench-{tag}-io", "cpu": f"bench-{tag}-cpu"}
    env = {
        **os.environ,
        "DATABASE_URL": connection_database_url(),
        "CELERY_TASK_DEFAULT_QUEUE": names["default"],
        "TASK_QUEUES_BY_SHAPE": "true" if by_shape else "false",
        "TASK_QUEUE_IO": names["io"],
        "TASK_QUEUE_CPU": names["cpu"],
        "PYTHONUNBUFFERED": "1",
    }
    previous = (
        settings.TASK_QUEUES_BY_SHAPE,
        settings.TASK_QUEUE_IO,
        settings.TASK_QUEUE_CPU,
        celery_app.conf.task_default_queue,
    )
    settings.TASK_QUEUES_BY_SHAPE = by_shape
    settings.TASK_QUEUE_IO, settings.TASK_QUEUE_CPU = names["io"], names["cpu"]
    celery_app.conf.task_default_queue = names["default"]
    queues = [names["io"], names["cpu"]] if by_shape else [names["default"]] * 2
    workers = [_worker(q, env, folder / f"{tag}-{i}.log") for i, q in enumerate(queues)]
    dataset = Dataset.objects.create(owner=owner, name="Burst", face_consent_at=timezone.now())
    waits: list[float] = []
    try:
        dataset_images_add(dataset=dataset, files=_photos(args.photos))
        pending = DatasetImage.objects.filter(dataset=dataset, status=DatasetImage.Status.PENDING)
        started = time.monotonic()
        while pending.count() == args.photos:  # the burst has begun when one is done or taken
            if any(" received" in (folder / f"{tag}-{i}.log").read_text() for i in range(2)):
                break
            if time.monotonic() - started > 120:
                raise RuntimeError("no worker received the photos in 120 s")
            time.sleep(0.02)
        # Only probes sent while photos are still waiting or running count: after the burst, an
        # I/O task waits for nothing in either mode.
        while len(waits) < args.probes and (not waits or pending.exists()):
            row = WebhookDelivery.objects.create(
                webhook_id=f"msg_{uuid.uuid4().hex}", remote_id="old", remote_status="succeeded"
            )
            old = timezone.now() - timedelta(days=400)
            WebhookDelivery.objects.filter(pk=row.pk).update(received_at=old)
            sent = time.monotonic()
            webhook_delivery_prune_task.delay()
            while WebhookDelivery.objects.filter(pk=row.pk).exists():
                if time.monotonic() - sent > 300:
                    raise RuntimeError("the I/O task did not run in 300 s")
                time.sleep(0.005)
            waits.append((time.monotonic() - sent) * 1000)
            time.sleep(args.every)
    finally:
        for process in workers:
            process.terminate()
        for process in workers:
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
        dataset_delete(dataset=dataset)
        (
            settings.TASK_QUEUES_BY_SHAPE,
            settings.TASK_QUEUE_IO,
            settings.TASK_QUEUE_CPU,
            celery_app.conf.task_default_queue,
        ) = previous
    return waits


def run(args: argparse.Namespace, out: TextIO) -> list[Figure]:
    from django.contrib.auth import get_user_model

    from config.celery import app as celery_app

    celery_app.conf.task_always_eager = False
    figures = []
    with bench_database("queues"), tempfile.TemporaryDirectory() as folder:
        owner = get_user_model().objects.create_user(email="burst@example.com")
        results = {}
        for label, by_shape in (("shared queue", False), ("queue per shape", True)):
            results[label] = _one_mode(
                by_shape=by_shape, args=args, owner=owner, folder=Path(folder)
            )
    print(
        f"I/O task wait while {args.photos} photos are processed (2 workers either way)", file=out
    )
    print(f"{'':16}  {'probes':>6}  {'median ms':>9}  {'p95 ms':>7}  {'max ms':>7}", file=out)
    for label, waits in results.items():
        name = f"{label}: I/O task wait"
        median, p95 = statistics.median(waits), percentile(waits, 95)
        print(f"{label:16}  {len(waits):6}  {median:9.0f}  {p95:7.0f}  {max(waits):7.0f}", file=out)
        baseline = None if name == BASELINE else BASELINE
        figures.append(Figure(name, median, "ms", baseline=baseline, p50=median, p95=p95))
    return figures
