"""Real Celery workers a fault test can start with settings of its own, and kill.

Like `tests.worker_fixtures.live_worker` (same database, media folder, simulator, live server for
the webhooks), except that a test may start several workers one after the other on the same
queue, each with its own environment (a short Replicate timeout, a pause after creates), and
SIGKILL one in the middle of a task.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from config.celery import app as celery_app
from tests.worker_fixtures import READY_TIMEOUT, ROOT, WorkerProcess, _database_url


@dataclass
class Workers:
    queue: str
    base_env: dict[str, str]
    log_dir: Path
    started: list[WorkerProcess] = field(default_factory=list)

    @property
    def options(self) -> list[str]:
        return [
            *("--pool", "solo", "--queues", self.queue, "--loglevel", "INFO"),
            *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        ]

    def start(self, **env: str) -> WorkerProcess:
        """Start a worker on the test's queue with these extra environment variables."""
        log_path = self.log_dir / f"worker-{len(self.started) + 1}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "config", "worker", *self.options],
                cwd=ROOT,
                env={**self.base_env, **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        worker = WorkerProcess(process=process, log_path=log_path, queue=self.queue)
        self.started.append(worker)
        deadline = time.monotonic() + READY_TIMEOUT
        while " ready." not in worker.log_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the Celery worker did not start:\n{worker.log_text()}")
            time.sleep(0.05)
        return worker

    @staticmethod
    def kill(worker: WorkerProcess) -> None:
        """SIGKILL: no shutdown, no acknowledgement, nothing after the line it was running."""
        worker.process.send_signal(signal.SIGKILL)
        worker.process.wait(timeout=10)

    @staticmethod
    def wait_for_line(worker: WorkerProcess, text: str, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while text not in worker.log_text():
            if worker.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{text!r} not in the worker's log:\n{worker.log_text()}")
            time.sleep(0.02)


def workers_running(*, settings, live_server, tmp_path) -> Iterator[Workers]:
    """For a fixture that also asks for `transactional_db` and `replicate_backend`:

    @pytest.fixture
    def workers(transactional_db, settings, replicate_backend, live_server, tmp_path):
        yield from workers_running(settings=settings, live_server=live_server, ...)
    """
    queue = f"test-{uuid.uuid4().hex[:12]}"
    media_root = settings.STORAGES["default"]["OPTIONS"]["location"]
    settings.PUBLIC_BASE_URL = live_server.url
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("REPLICATE_", "DJANGO_", "PYTEST_", "REMOTE_JOBS_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        CELERY_TASK_ALWAYS_EAGER="false",
        CELERY_TASK_DEFAULT_QUEUE=queue,
        DATABASE_URL=_database_url(),
        MEDIA_ROOT=str(media_root),
        PUBLIC_BASE_URL=live_server.url,
        REPLICATE_BASE_URL=settings.REPLICATE_BASE_URL,
        REPLICATE_SIMULATOR_TOKEN=settings.REPLICATE_SIMULATOR_TOKEN,
        REPLICATE_OWNER=settings.REPLICATE_OWNER,
        PYTHONUNBUFFERED="1",
    )
    previous = (celery_app.conf.task_always_eager, celery_app.conf.task_default_queue)
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    pool = Workers(queue=queue, base_env=env, log_dir=tmp_path)
    try:
        yield pool
    finally:
        celery_app.conf.task_always_eager, celery_app.conf.task_default_queue = previous
        for worker in pool.started:
            worker.stop()
