"""`python -m replicate_sim`: parse flags and environment, serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

from . import ids
from .app import Simulator
from .server import SimulatorServer
from .settings import OPTIONS, RuntimeConfig, StartupSettings
from .webhooks import secret_key_bytes


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m replicate_sim",
        description="A Replicate-compatible API simulator for offline development and tests. "
        "Every flag can also be set with the environment variable shown in brackets.",
    )
    for option in OPTIONS:
        envs = " / ".join((option.env, *option.env_aliases))
        help_text = f"{option.help} [{envs}; default: {option.default!r}]"
        if option.type is bool:
            parser.add_argument(
                option.flag,
                dest=option.name,
                nargs="?",
                const="true",
                default=None,
                metavar="BOOL",
                help=help_text,
            )
        else:
            parser.add_argument(
                option.flag,
                dest=option.name,
                default=None,
                metavar=option.type.__name__.upper(),
                help=help_text,
            )
    return parser


def resolve_values(
    args: argparse.Namespace, environ: dict[str, str] | os._Environ[str]
) -> dict[str, Any]:
    """Flag, then REPLICATE_SIM_<NAME>, then the aliases, then the default."""
    values: dict[str, Any] = {}
    problems = []
    for option in OPTIONS:
        raw: Any = getattr(args, option.name)
        if raw is None:
            for name in (option.env, *option.env_aliases):
                if environ.get(name):
                    raw = environ[name]
                    break
        try:
            values[option.name] = option.default if raw is None else option.coerce(raw)
        except (TypeError, ValueError) as error:
            problems.append(f"{option.flag}: {error}")
    if problems:
        raise SystemExit("replicate_sim: " + "; ".join(problems))
    return values


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    values = resolve_values(args, os.environ)
    values["token"] = values["token"] or ids.api_token()
    values["webhook_secret"] = values["webhook_secret"] or ids.webhook_secret()
    try:
        secret_key_bytes(values["webhook_secret"])
    except ValueError as error:
        raise SystemExit(f"replicate_sim: --webhook-secret: {error}") from error

    server = SimulatorServer((values["host"], values["port"]))
    port = server.server_address[1]
    host = values["host"]
    # Listening on every interface still needs one concrete address in the URLs handed out.
    shown_host = "127.0.0.1" if host in {"0.0.0.0", "", "::"} else host  # noqa: S104
    public_url = (values["public_url"] or f"http://{shown_host}:{port}").rstrip("/")
    settings = StartupSettings(
        **{field.name: values[field.name] for field in dataclasses.fields(StartupSettings)}
        | {"port": port, "public_url": public_url}
    )
    simulator = Simulator(settings, RuntimeConfig(values))
    server.app = simulator

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    simulator.start()
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="sim-http", daemon=True
    )
    thread.start()
    # One line each, sourceable as environment variables; flushed so a parent process (tests,
    # honcho) sees them at once.
    print(f"REPLICATE_BASE_URL={public_url}", flush=True)
    print(f"REPLICATE_API_TOKEN={settings.token}", flush=True)
    print(f"REPLICATE_WEBHOOK_SECRET={settings.webhook_secret}", flush=True)
    print(f"REPLICATE_OWNER={settings.owner}", flush=True)
    where = settings.data_dir or "memory (temporary folder)"
    print(
        f"replicate-sim: listening on {host}:{port}, state in {where}", file=sys.stderr, flush=True
    )

    while not stop.wait(0.5):
        pass
    print("replicate-sim: shutting down", file=sys.stderr, flush=True)
    server.shutdown()
    server.server_close()
    simulator.close()
    thread.join(timeout=5)
    return 0
