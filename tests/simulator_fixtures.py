"""Fixtures that run the Replicate simulator (`python -m replicate_sim`) for tests.

Import them into a conftest:

    from tests.simulator_fixtures import (  # noqa: F401
        make_webhook_receiver, replicate_simulator, simulator, webhook_receiver,
    )

- `replicate_simulator` (session): one simulator process on a free port with short durations and
  a tiny webhook back-off; stopped at the end of the session.
- `simulator` (function): the same process, with runtime settings and the webhook log reset
  before and after the test, so fault settings never leak between tests.
- `webhook_receiver` / `make_webhook_receiver`: a local HTTP server that records webhook requests
  (headers and raw body) and can answer errors to the first K of them.

Nothing here imports Django; the fixtures need only `replicate` and `httpx`.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
import replicate

from tests.http_servers import serve

ROOT = Path(__file__).resolve().parents[1]
OWNER = "avatars"
# Short enough for a fast suite, long enough that tests can observe `starting`/`processing`.
TEST_ARGS = (
    "--queue-seconds", "0.02",
    "--prediction-seconds", "0.15",
    "--training-seconds", "0.3",
    "--webhook-backoff", "0.05",
    "--webhook-retry-window", "2",
    "--webhook-timeout", "2",
)  # fmt: skip
STARTUP_TIMEOUT = 20.0


def wait_until(
    predicate: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05, message: str = ""
) -> Any:
    """Poll `predicate` until it returns something truthy; return that value or fail the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message or f"condition not met within {timeout} s")
        time.sleep(interval)


@dataclass
class SimulatorProcess:
    """A running simulator: where it is, its credentials, and helpers for its admin endpoints."""

    base_url: str
    token: str
    webhook_secret: str
    owner: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, **kwargs: Any) -> replicate.Client:
        client = replicate.Client(api_token=self.token, base_url=self.base_url, **kwargs)
        client.poll_interval = 0.05  # the simulator is fast; do not wait 0.5 s between polls
        return client

    def http(self, **kwargs: Any) -> httpx.Client:
        """A plain HTTP client with the token, for calls the `replicate` client cannot make."""
        return httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=10,
            **kwargs,
        )

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        with self.http() as http:
            response = http.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def configure(self, **settings: Any) -> dict[str, Any]:
        """Change runtime settings (see `GET /_sim/config` for the names)."""
        return self.admin("POST", "/_sim/config", settings)

    def config(self) -> dict[str, Any]:
        return self.admin("GET", "/_sim/config")

    def reset(self, *, data: bool = False) -> dict[str, Any]:
        """Back to the start-up settings, webhook log cleared; with data=True also forget
        files, predictions, trainings and models (the seeded catalogue stays)."""
        return self.admin("POST", "/_sim/reset", {"data": data})

    def webhook_attempts(self, object_id: str | None = None) -> list[dict[str, Any]]:
        path = "/_sim/webhooks" + (f"?object_id={object_id}" if object_id else "")
        return self.admin("GET", path)["attempts"]

    def expire(self, prediction_id: str | None = None) -> list[str]:
        """Fast-forward output expiry for one prediction (or all finished ones)."""
        body = {"id": prediction_id} if prediction_id else {}
        return self.admin("POST", "/_sim/expire", body)["expired"]

    def file_ids(self) -> set[str]:
        """Every file on the Files API (`GET /v1/files`, all pages)."""
        ids: set[str] = set()
        url = "/v1/files"
        with self.http() as http:
            while url:
                page = http.get(url).raise_for_status().json()
                ids |= {item["id"] for item in page["results"]}
                url = page.get("next")
        return ids

    def file_exists(self, file_id: str) -> bool:
        with self.http() as http:
            status = http.get(f"/v1/files/{file_id}").status_code
        assert status in (200, 404)
        return status == 200

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.process.returncode


def start_simulator(
    log_dir: Path, *extra_args: str, token: str | None = None, secret: str | None = None
) -> SimulatorProcess:
    """Start `python -m replicate_sim` on a free port and wait until it answers."""
    token = token or f"r8_test_{secrets.token_hex(12)}"
    secret = secret or "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    # Settings for the simulator come from the arguments only, never from the test environment.
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLICATE_SIM_")}
    env["PYTHONUNBUFFERED"] = "1"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"simulator-{secrets.token_hex(4)}.log"
    command = [
        sys.executable, "-m", "replicate_sim",
        "--host", "127.0.0.1", "--port", "0",
        "--token", token, "--webhook-secret", secret, "--owner", OWNER,
        "--quiet", *extra_args,
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        values: dict[str, str] = {}

        def started() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"simulator exited early:\n{log_path.read_text()}")
            for line in log_path.read_text(errors="replace").splitlines():
                key, sep, value = line.partition("=")
                if sep and key.startswith("REPLICATE_"):
                    values[key] = value
            return "REPLICATE_OWNER" in values

        wait_until(started, STARTUP_TIMEOUT, message="simulator did not print its settings")
        base_url = values["REPLICATE_BASE_URL"]

        def healthy() -> bool:
            try:
                return httpx.get(f"{base_url}/_sim/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(healthy, STARTUP_TIMEOUT, message="simulator did not answer")
    except BaseException:
        process.kill()
        process.wait(timeout=5)
        raise
    return SimulatorProcess(
        base_url=base_url,
        token=values["REPLICATE_API_TOKEN"],
        webhook_secret=values["REPLICATE_WEBHOOK_SECRET"],
        owner=values["REPLICATE_OWNER"],
        process=process,
        log_path=log_path,
    )


@contextlib.contextmanager
def running_simulator(log_dir: Path, *extra_args: str) -> Iterator[SimulatorProcess]:
    simulator = start_simulator(log_dir, *extra_args)
    try:
        yield simulator
    finally:
        simulator.stop()


@pytest.fixture(scope="session")
def replicate_simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    with running_simulator(tmp_path_factory.mktemp("replicate-sim"), *TEST_ARGS) as simulator:
        yield simulator


@pytest.fixture
def simulator(replicate_simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    replicate_simulator.reset()
    yield replicate_simulator
    replicate_simulator.reset()


# --- webhook receiver ----------------------------------------------------------------------------


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    received_at: float
    answered: int

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebhookReceiver:
    """Records every request; answers `fail_status` to the first `fail_first` ones, 200 after."""

    fail_first: int = 0
    fail_status: int = 500
    requests: list[ReceivedRequest] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._condition = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver._condition:
                    status = (
                        receiver.fail_status
                        if len(receiver.requests) < receiver.fail_first
                        else 200
                    )
                    receiver.requests.append(
                        ReceivedRequest(
                            method=self.command,
                            path=self.path,
                            headers={k.lower(): v for k, v in self.headers.items()},
                            body=body,
                            received_at=time.monotonic(),
                            answered=status,
                        )
                    )
                    receiver._condition.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = serve(Handler)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/webhooks/replicate"

    def wait_for(
        self,
        predicate: Callable[[ReceivedRequest], bool] = lambda request: True,
        count: int = 1,
        timeout: float = 10.0,
    ) -> list[ReceivedRequest]:
        """Wait until `count` recorded requests match; return all matching ones."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                matching = [r for r in self.requests if predicate(r)]
                if len(matching) >= count:
                    return matching
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(r.headers.get("webhook-id"), r.body[:120]) for r in self.requests]
                    raise AssertionError(f"expected {count} matching webhooks, got {seen}")
                self._condition.wait(remaining)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture
def make_webhook_receiver() -> Iterator[Callable[..., WebhookReceiver]]:
    receivers: list[WebhookReceiver] = []

    def make(fail_first: int = 0, fail_status: int = 500) -> WebhookReceiver:
        receiver = WebhookReceiver(fail_first=fail_first, fail_status=fail_status)
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.close()


@pytest.fixture
def webhook_receiver(make_webhook_receiver: Callable[..., WebhookReceiver]) -> WebhookReceiver:
    return make_webhook_receiver()
