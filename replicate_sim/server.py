"""HTTP plumbing on the standard library: request/response objects, a small router, the server.

The handler speaks HTTP/1.1 with keep-alive (httpx reuses connections), always sends a
Content-Length, and reads request bodies lazily so an endpoint can refuse an oversized upload
from its Content-Length before reading it.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from .errors import ApiError

MAX_JSON_BODY = 16 * 1024 * 1024
MAX_DISCARD = 1024 * 1024 * 1024


class Request:
    def __init__(
        self,
        method: str,
        target: str,
        headers: Message,
        reader: Callable[[int], bytes],
    ) -> None:
        parts = urlsplit(target)
        self.method = method
        self.path = parts.path
        self.query = dict(parse_qsl(parts.query, keep_blank_values=True))
        self.headers = headers
        self.params: dict[str, str] = {}
        self._reader = reader
        self._body: bytes | None = None

    @property
    def content_length(self) -> int:
        try:
            return int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return 0

    @property
    def body_consumed(self) -> bool:
        return self._body is not None

    def body(self, limit: int = MAX_JSON_BODY) -> bytes:
        if self._body is None:
            if self.content_length > limit:
                raise ApiError(413, "Request body too large")
            self._body = self._reader(limit)
        return self._body

    def json(self) -> Any:
        raw = self.body()
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except ValueError as error:
            raise ApiError(400, f"Invalid JSON body: {error}") from error


@dataclass
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str | None = "application/json"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return cls(status, json.dumps(data).encode(), "application/json", dict(headers or {}))

    @classmethod
    def problem(cls, error: ApiError) -> Response:
        return cls(
            error.status,
            json.dumps(error.body()).encode(),
            "application/problem+json",
            dict(error.headers),
        )

    @classmethod
    def empty(cls, status: int = 204) -> Response:
        return cls(status, b"", None)


Handler = Callable[[Request], Response]


class Router:
    """Maps (method, path pattern with {params}) to handlers; 404/405 as problem details."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []

    def add(self, method: str, pattern: str, handler: Handler) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern.rstrip("/") or "/")
        self._routes.append((method, re.compile(f"^{regex}/?$"), handler))

    def resolve(self, request: Request) -> Handler:
        allowed = []
        for method, regex, handler in self._routes:
            match = regex.match(request.path)
            if not match:
                continue
            if method == request.method:
                request.params = match.groupdict()
                return handler
            allowed.append(method)
        if allowed:
            raise ApiError(
                405,
                f"Method {request.method} not allowed",
                headers={"Allow": ", ".join(sorted(set(allowed)))},
            )
        raise ApiError(404, "The requested resource could not be found.")


class Application(Protocol):
    quiet: bool

    def handle(self, request: Request) -> Response: ...


class SimulatorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # Refuse slowly rather than drop connections when many clients (or retries) arrive at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Application | None = None) -> None:
        super().__init__(address, RequestHandler)
        self.app = app


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "replicate-sim/1.0"
    sys_version = ""
    timeout = 120  # idle keep-alive connections are closed after this
    server: SimulatorServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_PATCH(self) -> None:
        self._dispatch()

    def do_QUERY(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch(head=True)

    def _read_body(self, limit: int) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size_line = self.rfile.readline(65537).strip()
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537).strip():
                        pass  # trailers
                    break
                total += size
                if total > limit:
                    self.close_connection = True
                    raise ApiError(413, "Request body too large")
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self, head: bool = False) -> None:
        app = self.server.app
        request = Request("GET" if head else self.command, self.path, self.headers, self._read_body)
        try:
            if app is None:
                raise ApiError(503, "Starting up")
            response = app.handle(request)
        except ApiError as error:
            response = Response.problem(error)
        except Exception:
            print(f"replicate-sim: error handling {self.command} {self.path}", file=sys.stderr)
            traceback.print_exc()
            response = Response.problem(ApiError(500, "Internal server error"))
        if not request.body_consumed:
            self._discard_body(request)
        self._write(response, head)

    def _discard_body(self, request: Request) -> None:
        """Read a refused body (401, 413...) so the client gets to read the answer.

        Answering before the client has sent its body and closing would make most clients
        report a broken connection instead of the status; very large bodies are cut off anyway.
        """
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            self.close_connection = True
            return
        remaining = request.content_length
        if remaining > MAX_DISCARD:
            self.close_connection = True
            return
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, 1024 * 1024))
            if not chunk:
                break
            remaining -= len(chunk)

    def _write(self, response: Response, head: bool) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head and response.body:
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        app = self.server.app
        if app is not None and app.quiet:
            return
        sys.stderr.write(f"replicate-sim: {self.address_string()} {format % args}\n")
