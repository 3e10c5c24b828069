"""The file endpoints: upload (multipart), list, get, download and delete.

Like the real API, a file is no longer listed or served 24 hours after its upload.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import time
from typing import Any

from .. import multipart
from ..errors import ApiError, validation_error
from ..ids import file_id
from ..server import Request, Response, Router
from ..store import FileRecord
from .base import Endpoints

# Room for the multipart headers and boundaries around a file of the largest allowed size.
MULTIPART_SLACK = 64 * 1024


class FileEndpoints(Endpoints):
    def register(self, router: Router) -> None:
        router.add("POST", "/v1/files", self.file_create)
        router.add("GET", "/v1/files", self.file_list)
        router.add("GET", "/v1/files/{file_id}", self.file_get)
        router.add("DELETE", "/v1/files/{file_id}", self.file_delete)
        router.add("GET", "/v1/files/{file_id}/download", self.file_download)

    def file_create(self, request: Request) -> Response:
        limit = self.sim.config.max_file_size
        too_big = ApiError(
            413,
            "Files must be less than 100MB in size"
            if limit == 100 * 1024 * 1024
            else f"Files must be less than {limit} bytes in size",
        )
        if request.content_length > limit + MULTIPART_SLACK:
            raise too_big
        boundary = multipart.boundary_of(request.headers.get("Content-Type", ""))
        if boundary is None:
            raise ApiError(400, "Expected a multipart/form-data body with a 'content' part")
        parts = {
            part.name: part
            for part in multipart.parse(request.body(limit + MULTIPART_SLACK), boundary)
        }
        content = parts.get("content")
        if content is None:
            raise validation_error([("content", "content", "content is required")])
        if len(content.data) >= limit:
            raise too_big
        metadata: Any = {}
        if "metadata" in parts:
            try:
                metadata = json.loads(parts["metadata"].data or b"{}")
            except ValueError as error:
                raise validation_error(
                    [("metadata", "metadata", f"Invalid JSON: {error}")]
                ) from error
            if not isinstance(metadata, dict):
                raise validation_error([("metadata", "metadata", "Must be a JSON object")])
        name = (_text(parts.get("filename")) or content.filename or "file")[:255]
        content_type = (
            _text(parts.get("type"))
            or content.content_type
            or mimetypes.guess_type(name)[0]
            or "application/octet-stream"
        )
        record = FileRecord(
            id=file_id(),
            name=name,
            content_type=content_type,
            size=len(content.data),
            md5=hashlib.md5(content.data, usedforsecurity=False).hexdigest(),
            sha256=hashlib.sha256(content.data).hexdigest(),
            metadata=metadata,
            created_at=time.time(),
            seq=self.store.next_seq(),
        )
        self.store.file_path(record.id).write_bytes(content.data)
        with self.store.lock:
            self.store.files[record.id] = record
            self.store.touch()
        return Response.json(self.sim.serializer.file(record), status=201)

    def _file(self, request: Request) -> FileRecord:
        with self.store.lock:
            record = self.store.files.get(request.params["file_id"])
        if record is None or time.time() > record.created_at + 24 * 3600:
            raise ApiError(404, "File not found")
        return record

    def file_list(self, request: Request) -> Response:
        with self.store.lock:
            records = sorted(self.store.files.values(), key=lambda r: r.seq, reverse=True)
        now = time.time()
        records = [r for r in records if now <= r.created_at + 24 * 3600]
        return self._page(request, records, self.sim.serializer.file)

    def file_get(self, request: Request) -> Response:
        return Response.json(self.sim.serializer.file(self._file(request)))

    def file_delete(self, request: Request) -> Response:
        record = self._file(request)
        with self.store.lock:
            self.store.files.pop(record.id, None)
            self.store.touch()
        self.store.file_path(record.id).unlink(missing_ok=True)
        return Response.empty(204)

    def file_download(self, request: Request) -> Response:
        record = self._file(request)
        data = self.store.file_path(record.id).read_bytes()
        return Response(
            200,
            data,
            record.content_type,
            {"Content-Disposition": f'attachment; filename="{record.name}"'},
        )


def _text(part: multipart.Part | None) -> str:
    return part.data.decode("utf-8", "replace").strip() if part else ""
