"""Cursor pagination of list endpoints: `{"previous", "next", "results"}` pages, newest first.

A cursor names a `seq` boundary ("before" or "after" a record), so records created meanwhile
never shift a page; it travels base64-encoded in the `cursor` query parameter of the `next` and
`previous` URLs.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

from ..errors import ApiError
from ..server import Request, Response


def page_response(
    request: Request,
    items: Sequence[Any],
    serialize: Callable[[Any], dict[str, Any]],
    *,
    page_size: int,
    absolute_url: Callable[[str], str],
) -> Response:
    """The page of `items` (sorted newest first by their `seq`) that the request's cursor names."""
    cursor = _decode_cursor(request.query.get("cursor"))
    if cursor is None:
        page = list(items[:page_size])
    elif cursor[0] == "before":
        older = [item for item in items if item.seq < cursor[1]]
        page = older[:page_size]
    else:
        newer = [item for item in items if item.seq > cursor[1]]
        page = newer[-page_size:]
    next_url = previous_url = None
    if page:
        if any(item.seq < page[-1].seq for item in items):
            next_url = absolute_url(_page_path(request, ("before", page[-1].seq)))
        if any(item.seq > page[0].seq for item in items):
            previous_url = absolute_url(_page_path(request, ("after", page[0].seq)))
    return Response.json(
        {"previous": previous_url, "next": next_url, "results": [serialize(i) for i in page]}
    )


def _page_path(request: Request, cursor: tuple[str, int]) -> str:
    query = {k: v for k, v in request.query.items() if k != "cursor"}
    token = base64.urlsafe_b64encode(f"{cursor[0]}:{cursor[1]}".encode()).decode().rstrip("=")
    query["cursor"] = token
    return f"{request.path}?{urlencode(query)}"


def _decode_cursor(token: str | None) -> tuple[str, int] | None:
    if not token:
        return None
    try:
        padded = token + "=" * (-len(token) % 4)
        direction, _, seq = base64.urlsafe_b64decode(padded).decode().partition(":")
        if direction not in {"before", "after"}:
            raise ValueError(direction)
        return direction, int(seq)
    except ValueError as error:
        raise ApiError(400, "Invalid cursor") from error
