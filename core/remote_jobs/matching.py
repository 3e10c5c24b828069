"""How a remote job is recognised as ours when the answer to its create was lost.

Replicate's create is not idempotent and takes no client token, and the models' schemas refuse
inputs they do not know (the simulator does the same), so our job's id cannot travel in the
input. What Replicate echoes back is the model, the version and the input: a job is recognised
by its target, the time it was created (after our intent, within the create window) and a
digest of the exact input we sent (`input_fingerprint`), stored on the job before the create
call. File inputs are left out of the digest: each attempt uploads them again under a new URL.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.utils.dateparse import parse_datetime

# How far apart our clock and Replicate's may be: a remote job created this long before our
# intent (by Replicate's clock) can still be the one we asked for.
CLOCK_MARGIN = timedelta(minutes=2)


def _normal(value: Any) -> Any:
    """JSON the way Replicate echoes it: 2.0 and 2 are the same number."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, Mapping):
        return {str(key): _normal(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normal(item) for item in value]
    return str(value)


def input_fingerprint(values: Mapping[str, Any] | None, *, exclude: Iterable[str] = ()) -> str:
    """A digest of an input as sent (None values are not sent) or as Replicate echoes it."""
    left_out = set(exclude)
    kept = {
        key: _normal(value)
        for key, value in (values or {}).items()
        if key not in left_out and value is not None and not isinstance(value, io.IOBase)
    }
    text = json.dumps(kept, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def created_within(
    created_at: str | None, *, intent: datetime, window: timedelta, margin: timedelta = CLOCK_MARGIN
) -> bool:
    """Whether a remote job created at `created_at` (Replicate's RFC 3339) can come from a
    create sent at `intent` and answered (or given up) within `window`."""
    created = parse_datetime(created_at) if created_at else None
    if created is None:
        return False
    return intent - margin <= created <= intent + window + margin
