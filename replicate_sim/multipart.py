"""A small multipart/form-data parser (the `cgi` module is gone from newer Pythons)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value


@dataclass
class Part:
    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def boundary_of(content_type: str) -> str | None:
    message = Message()
    message["Content-Type"] = content_type
    if message.get_content_type() != "multipart/form-data":
        return None
    boundary = message.get_param("boundary")
    return boundary if isinstance(boundary, str) and boundary else None


def parse(body: bytes, boundary: str) -> list[Part]:
    delimiter = b"--" + boundary.encode("latin-1")
    parts: list[Part] = []
    sections = body.split(delimiter)
    # sections[0] is the preamble; a section starting with "--" is the closing delimiter.
    for section in sections[1:]:
        if section.startswith(b"--"):
            break
        if section.startswith(b"\r\n"):
            section = section[2:]
        head, separator, data = section.partition(b"\r\n\r\n")
        if not separator:
            continue
        if data.endswith(b"\r\n"):
            data = data[:-2]
        headers = HeaderParser().parsestr(head.decode("utf-8", "replace"))
        disposition = Message()
        disposition["Content-Disposition"] = headers.get("Content-Disposition", "")
        name = disposition.get_param("name", header="Content-Disposition")
        if not name:
            continue
        filename = disposition.get_param("filename", header="Content-Disposition")
        parts.append(
            Part(
                name=collapse_rfc2231_value(name),
                filename=collapse_rfc2231_value(filename) if filename else None,
                content_type=headers.get("Content-Type"),
                data=data,
            )
        )
    return parts
