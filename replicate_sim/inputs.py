"""Reading file inputs the way a model would: own Files API URLs, data URIs, or plain HTTP(S).

The Files API hands out `.../v1/files/<id>` as the input URL; on Replicate only the platform can
turn that into bytes, so the simulator reads its own store instead of making an HTTP request.
"""

from __future__ import annotations

import base64
import re
import urllib.error
import urllib.parse
import urllib.request

from .store import Store

_FILE_PATH = re.compile(r"^/v1/files/(?P<id>[^/]+)(?:/download)?/?$")
_DELIVERY_PATH = re.compile(r"^/delivery/(?P<object>[^/]+)/(?P<name>[^/]+)$")
FETCH_TIMEOUT = 15.0


class InputFileError(Exception):
    """The input could not be read; the message says why (it goes to the logs)."""


class InputResolver:
    def __init__(self, store: Store, own_netlocs: set[str], max_bytes: int) -> None:
        self.store = store
        self.own_netlocs = own_netlocs
        self.max_bytes = max_bytes

    def read(self, value: str) -> bytes:
        if not isinstance(value, str) or not value:
            raise InputFileError("not a URL")
        if value.startswith("data:"):
            return _decode_data_uri(value)
        parts = urllib.parse.urlsplit(value)
        if parts.scheme not in {"http", "https"}:
            raise InputFileError(f"unsupported URL scheme {parts.scheme!r}")
        own_host = parts.netloc in self.own_netlocs
        if match := _FILE_PATH.match(parts.path):
            file_id = match["id"]
            with self.store.lock:
                known = file_id in self.store.files
            if known:
                return self.store.file_path(file_id).read_bytes()
            if own_host:
                raise InputFileError(f"file {file_id} not found")
        if own_host and (match := _DELIVERY_PATH.match(parts.path)):
            path = self.store.delivery_dir(match["object"]) / match["name"]
            if not path.is_file():
                raise InputFileError(f"{parts.path} not found")
            return path.read_bytes()
        return self._fetch(value)

    def _fetch(self, url: str) -> bytes:
        # The scheme was checked in read(): only http(s) URLs reach this point.
        request = urllib.request.Request(url, headers={"User-Agent": "replicate-sim/1.0"})  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=FETCH_TIMEOUT) as response:  # noqa: S310
                data = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as error:
            raise InputFileError(f"GET {url} answered {error.code}") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise InputFileError(f"GET {url} failed: {error}") from error
        if len(data) > self.max_bytes:
            raise InputFileError("file too large")
        return data


def _decode_data_uri(value: str) -> bytes:
    header, sep, payload = value[5:].partition(",")
    if not sep:
        raise InputFileError("malformed data URI")
    try:
        if header.endswith(";base64"):
            return base64.b64decode(payload, validate=False)
        return urllib.parse.unquote_to_bytes(payload)
    except ValueError as error:
        raise InputFileError(f"malformed data URI: {error}") from error
