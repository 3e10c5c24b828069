"""The last step of `make run`: start the Procfile's processes under honcho, print the banner
once the web process answers, and treat Ctrl-C as a normal way to stop.

Why not plain `honcho start`: it exits 130 after Ctrl-C (so make reports an error), sends
SIGTERM to Celery's pool processes as well as to the worker, and SIGKILLs whatever is left 5 s
after the first process stops; all three can cut a task short. Here a requested stop exits 0,
the worker gets a warm shutdown, and processes have `--grace` seconds before they are killed.
"""

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections import OrderedDict

import httpx
from honcho.environ import expand_processes, parse_procfile
from honcho.manager import Manager
from honcho.printer import Printer


class Supervisor(Manager):
    """honcho's Manager, with a stop deadline of `grace` seconds instead of its fixed 5."""

    def __init__(self, *, grace: float, printer: Printer):
        super().__init__(printer)
        self.grace = grace
        self.stop_requested = False
        self.killed: list[str] = []
        self._kill_at: float | None = None

    def terminate(self):
        # honcho calls this from its SIGINT/SIGTERM handler, and from its loop once any process
        # has stopped; only the first case, with every process still up, is a stop on request.
        if not self._terminating:
            self.stop_requested = not self._any_stopped()
            self._kill_at = time.monotonic() + self.grace
            # The loop only counts from the first stopped process; this bounds the wait anyway.
            deadline = threading.Timer(self.grace, self.kill)
            deadline.daemon = True
            deadline.start()
        super().terminate()

    def kill(self):
        if self._kill_at is None or time.monotonic() < self._kill_at:
            return
        self.killed = [name for name, p in self._processes.items() if "returncode" not in p]
        super().kill()

    def _killall(self, force=False):
        if force:
            return super()._killall(force=True)
        # honcho sends SIGTERM to each process group; Celery's pool children would die at once
        # and cut running tasks short. Only the leaders get it: each stops its own children
        # (the worker's warm shutdown, gunicorn's graceful stop).
        for name, p in self._processes.items():
            if "returncode" not in p and "pid" in p:
                self._system_print(f"sending SIGTERM to {name} (pid {p['pid']})\n")
                with contextlib.suppress(ProcessLookupError):
                    os.kill(p["pid"], signal.SIGTERM)

    def sweep(self) -> None:
        """SIGKILL whatever a stopped process left behind in its process group."""
        for p in self._processes.values():
            if "pid" in p:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(p["pid"], signal.SIGKILL)


def banner_when_ready(*, url: str, banner: str, supervisor: Supervisor) -> None:
    """Print `banner` once `url` answers: the addresses are only worth showing when they work."""
    while not supervisor._terminating:
        try:
            httpx.get(url, timeout=1)
            break
        except httpx.TransportError:
            time.sleep(0.5)
    else:
        return
    sys.stdout.write(banner)
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("processes", nargs="+", help="process types of the Procfile to start")
    parser.add_argument("--procfile", default="Procfile")
    parser.add_argument("--grace", type=float, default=20.0, help="seconds from SIGTERM to SIGKILL")
    parser.add_argument("--ready-url", required=True, help="print the banner once this answers")
    parser.add_argument("--banner", default="", help="text to print once the web process answers")
    args = parser.parse_args(argv)

    with open(args.procfile) as procfile:
        defined = parse_procfile(procfile.read()).processes
    unknown = [name for name in args.processes if name not in defined]
    if unknown:
        parser.error(f"not in {args.procfile}: {', '.join(unknown)}")
    chosen = OrderedDict((name, defined[name]) for name in args.processes)

    printer = Printer(sys.stdout, colour=sys.stdout.isatty())
    supervisor = Supervisor(grace=args.grace, printer=printer)
    for process in expand_processes(chosen, port=int(os.environ.get("PORT", "5000"))):
        # honcho runs each line with `sh -c`; `exec` makes the program itself the group leader
        # that gets the SIGTERM, not a shell that would die and leave it running.
        command = f"exec {process.cmd}"
        supervisor.add_process(process.name, command, env={**os.environ, **process.env})

    threading.Thread(
        target=banner_when_ready,
        kwargs={"url": args.ready_url, "banner": args.banner, "supervisor": supervisor},
        daemon=True,
    ).start()
    supervisor.loop()
    supervisor.sweep()

    if supervisor.killed:
        print(
            f"Killed after {args.grace:g} s without stopping: {', '.join(supervisor.killed)}.",
            flush=True,
        )
    if supervisor.stop_requested:
        print("Stopped.", flush=True)
        return 0
    return supervisor.returncode or 1


if __name__ == "__main__":
    sys.exit(main())
