"""Real Celery worker processes for integration tests.

`live_worker` starts one `celery -A config worker` in its own process, on a queue of its own,
with the test's database, media folder and Replicate simulator, and with `PUBLIC_BASE_URL`
pointing at pytest-django's live server, so that webhooks from the simulator reach this test.
Tasks the test enqueues go through the real broker (Redis in CI, the filesystem transport
elsewhere).

`workers_running` gives a fault test the same, as a pool it starts workers from one after the
other on that queue, each with an environment of its own (a short Replicate timeout, a pause
after creates), and may SIGKILL one in the middle of a task.
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

import pytest
from django.db import connection

from config.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]
READY_TIMEOUT = 60


def connection_database_url() -> str:
    """DATABASE_URL for a process of its own on the database this one uses (the test's)."""
    params = connection.settings_dict
    if params["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{Path(params['NAME']).resolve()}"
    user = params.get("USER") or ""
    password = f":{params['PASSWORD']}" if params.get("PASSWORD") else ""
    credentials = f"{user}{password}@" if user else ""
    host = params.get("HOST") or "127.0.0.1"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{params['NAME']}"


@dataclass
class WorkerProcess:
    process: subprocess.Popen
    log_path: Path
    queue: str

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


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
        # What the worker enqueues itself must come back to it, not to the default queue.
        CELERY_TASK_DEFAULT_QUEUE=queue,
        DATABASE_URL=connection_database_url(),
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


@pytest.fixture
def live_worker(transactional_db, settings, replicate_backend, live_server, tmp_path):
    for pool in workers_running(settings=settings, live_server=live_server, tmp_path=tmp_path):
        yield pool.start(TRAINING_RECONCILE_AFTER_SECONDS="1")
