"""Every setting of the simulator, in one table shared by the command line, the environment and
the runtime admin endpoint (`/_sim/config`).

Each option has a flag `--some-name` and an environment variable `REPLICATE_SIM_SOME_NAME`.
Start-up options (address, credentials, storage) are fixed for the life of the process; runtime
options (durations, faults, webhook behaviour) can be changed while it runs.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

NSFW_ERROR = (
    "All generated images contained NSFW content. Try running it again with a different prompt."
)
TRAINING_ERROR = (
    "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity; "
    "76.82 GiB already allocated)"
)
OUTCOMES = ("", "succeeded", "failed", "canceled")
ERROR_STATUSES = (500, 503, 504)


def parse_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _non_negative(value: float) -> str | None:
    return None if value >= 0 else "must be greater than or equal to 0"


def _positive(value: float) -> str | None:
    return None if value > 0 else "must be greater than 0"


def _probability(value: float) -> str | None:
    return None if 0 <= value <= 1 else "must be between 0 and 1"


def _one_of(choices: tuple[Any, ...]) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value in choices else f"must be one of {list(choices)}"

    return check


@dataclass(frozen=True)
class Option:
    name: str
    type: type
    default: Any
    help: str
    runtime: bool = True
    check: Callable[[Any], str | None] | None = None
    # Environment variables read after REPLICATE_SIM_<NAME>, for compatibility with the client's
    # own variables (REPLICATE_API_TOKEN) and the project's (REPLICATE_OWNER).
    env_aliases: tuple[str, ...] = field(default_factory=tuple)

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def env(self) -> str:
        return "REPLICATE_SIM_" + self.name.upper()

    def coerce(self, value: Any) -> Any:
        """Turn a command-line, environment or JSON value into this option's type, or raise."""
        if self.type is bool:
            result: Any = parse_bool(value)
        elif self.type is str:
            result = "" if value is None else str(value)
        elif self.type is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError(f"not an integer: {value!r}")
            result = int(value)
        elif self.type is float:
            if isinstance(value, bool):
                raise ValueError(f"not a number: {value!r}")
            result = float(value)
        else:  # pragma: no cover - the table only uses the types above
            result = self.type(value)
        if self.check is not None and (problem := self.check(result)):
            raise ValueError(problem)
        return result


OPTIONS: tuple[Option, ...] = (
    # --- start-up ---------------------------------------------------------------------------
    Option("host", str, "127.0.0.1", "Address to listen on.", runtime=False),
    Option("port", int, 8010, "Port to listen on (0 picks a free one).", runtime=False),
    Option(
        "token",
        str,
        "",
        "API token clients must send (generated and printed when empty).",
        runtime=False,
        env_aliases=("REPLICATE_API_TOKEN",),
    ),
    Option(
        "webhook_secret",
        str,
        "",
        "Webhook signing secret, whsec_<base64> (generated and printed when empty).",
        runtime=False,
    ),
    Option(
        "owner",
        str,
        "avatars",
        "Username of the simulated account; models can only be created under it.",
        runtime=False,
        env_aliases=("REPLICATE_OWNER",),
    ),
    Option(
        "public_url",
        str,
        "",
        "Base URL used in every absolute URL handed out (default http://<host>:<port>).",
        runtime=False,
    ),
    Option(
        "data_dir",
        str,
        "",
        "Folder that keeps state and files across restarts (default: a temporary folder).",
        runtime=False,
    ),
    Option("quiet", bool, False, "Do not log each HTTP request to stderr.", runtime=False),
    # --- durations --------------------------------------------------------------------------
    Option("queue_seconds", float, 1.0, "Time spent in `starting`.", check=_non_negative),
    Option(
        "prediction_seconds",
        float,
        4.0,
        "Time a prediction spends processing.",
        check=_non_negative,
    ),
    Option(
        "training_seconds", float, 60.0, "Time a training spends processing.", check=_non_negative
    ),
    Option(
        "output_ttl",
        float,
        3600.0,
        "Seconds after completion when a prediction's data and output files are removed.",
        check=_positive,
    ),
    # --- outcomes ---------------------------------------------------------------------------
    Option(
        "failure_rate",
        float,
        0.0,
        "Probability that a prediction or training ends `failed`.",
        check=_probability,
    ),
    Option(
        "prediction_outcome",
        str,
        "",
        "Force every new prediction to end succeeded|failed|canceled (empty: normal).",
        check=_one_of(OUTCOMES),
    ),
    Option(
        "training_outcome",
        str,
        "",
        "Force every new training to end succeeded|failed|canceled (empty: normal).",
        check=_one_of(OUTCOMES),
    ),
    Option("prediction_error", str, NSFW_ERROR, "Error text of a failed prediction."),
    Option("training_error", str, TRAINING_ERROR, "Error text of a failed training."),
    # --- request faults ---------------------------------------------------------------------
    Option(
        "throttle_every",
        int,
        0,
        "Answer every Nth /v1 request with 429 (0: off).",
        check=_non_negative,
    ),
    Option(
        "throttle_next", int, 0, "Answer the next N /v1 requests with 429.", check=_non_negative
    ),
    Option("retry_after", int, 1, "Retry-After seconds on a 429.", check=_non_negative),
    Option(
        "error_every",
        int,
        0,
        "Answer every Nth /v1 request with --error-status (0: off).",
        check=_non_negative,
    ),
    Option(
        "error_next",
        int,
        0,
        "Answer the next N /v1 requests with --error-status.",
        check=_non_negative,
    ),
    Option(
        "error_status",
        int,
        503,
        "Status of injected server errors: 500, 503 or 504.",
        check=_one_of(ERROR_STATUSES),
    ),
    Option(
        "slow_seconds",
        float,
        0.0,
        "Delay added before answering each /v1 request.",
        check=_non_negative,
    ),
    Option(
        "slow_create_seconds",
        float,
        0.0,
        "Delay added to the answer of a prediction or training create, after the job was "
        "created (it runs all the same): an answer lost to a client timeout.",
        check=_non_negative,
    ),
    # --- webhooks ---------------------------------------------------------------------------
    Option(
        "drop_webhooks",
        float,
        0.0,
        "Probability that a webhook message is silently never sent.",
        check=_probability,
    ),
    Option("duplicate_webhooks", bool, False, "Send every webhook message twice."),
    Option(
        "reorder_webhooks",
        bool,
        False,
        "Hold an object's non-terminal webhooks and send them after its `completed` one.",
    ),
    Option(
        "webhook_backoff",
        float,
        1.0,
        "First retry delay of a failed `completed` webhook; doubles each time.",
        check=_positive,
    ),
    Option(
        "webhook_retry_window",
        float,
        60.0,
        "The last retry of a `completed` webhook happens this many seconds after the first try.",
        check=_non_negative,
    ),
    Option(
        "webhook_timeout", float, 5.0, "Seconds to wait for a webhook receiver.", check=_positive
    ),
    Option(
        "webhook_throttle",
        float,
        0.5,
        "Minimum seconds between two `output`/`logs` webhooks of one object.",
        check=_non_negative,
    ),
    # --- limits -----------------------------------------------------------------------------
    Option("page_size", int, 100, "Records per page of list endpoints.", check=_positive),
    Option(
        "max_file_size",
        int,
        100 * 1024 * 1024,
        "Uploads must be smaller than this many bytes (the real API: 100 MB).",
        check=_positive,
    ),
)

OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}
RUNTIME_OPTIONS = tuple(option for option in OPTIONS if option.runtime)


@dataclass(frozen=True)
class StartupSettings:
    host: str
    port: int
    token: str
    webhook_secret: str
    owner: str
    public_url: str
    data_dir: str
    quiet: bool


class RuntimeConfig:
    """The mutable settings, safe to read and change from any thread."""

    def __init__(self, values: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._initial = {option.name: values[option.name] for option in RUNTIME_OPTIONS}
        self._values = dict(self._initial)
        self._listeners: list[Callable[[set[str]], None]] = []

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("_values")
        if values is not None and name in values:
            with self.__dict__["_lock"]:
                return values[name]
        raise AttributeError(name)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._values)

    def on_change(self, listener: Callable[[set[str]], None]) -> None:
        self._listeners.append(listener)

    def update(self, changes: dict[str, Any]) -> dict[str, Any]:
        """Validate all changes first, then apply them together. Raises ValueError."""
        coerced: dict[str, Any] = {}
        problems = []
        for name, value in changes.items():
            option = OPTIONS_BY_NAME.get(name)
            if option is None or not option.runtime:
                problems.append(f"{name}: not a runtime setting")
                continue
            try:
                coerced[name] = option.coerce(value)
            except (TypeError, ValueError) as error:
                problems.append(f"{name}: {error}")
        if problems:
            raise ValueError("\n".join(problems))
        with self._lock:
            self._values.update(coerced)
            snapshot = dict(self._values)
        for listener in self._listeners:
            listener(set(coerced))
        return snapshot

    def reset(self) -> dict[str, Any]:
        with self._lock:
            self._values = dict(self._initial)
            snapshot = dict(self._values)
        for listener in self._listeners:
            listener(set(snapshot))
        return snapshot

    def take_one(self, name: str) -> bool:
        """Atomically consume one unit of a countdown setting (throttle_next, error_next)."""
        with self._lock:
            if self._values[name] > 0:
                self._values[name] -= 1
                return True
            return False
