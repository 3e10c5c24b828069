"""Identifiers and timestamps shaped like the ones Replicate hands out."""

from __future__ import annotations

import base64
import secrets
import string
import uuid
from datetime import UTC, datetime

# Prediction and training ids are 26 lowercase characters (a Crockford-like alphabet without
# i, l, o, u), e.g. "q7dbf2m3s1rj00cmh3f8tz4a9c".
_JOB_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
_TOKEN_ALPHABET = string.ascii_letters + string.digits


def job_id() -> str:
    return "".join(secrets.choice(_JOB_ALPHABET) for _ in range(26))


def version_id() -> str:
    return secrets.token_hex(32)


def file_id() -> str:
    # Real file ids are the base64 of a UUID string ("NGZiNmY2YzQtMThh..."); 36 bytes encode to
    # 48 characters without padding, and the URL-safe alphabet keeps them usable in paths.
    return base64.urlsafe_b64encode(str(uuid.uuid4()).encode()).decode()


def webhook_message_id() -> str:
    return "msg_" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(27))


def api_token() -> str:
    # Real tokens are "r8_" followed by 37 alphanumerics.
    return "r8_" + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(37))


def webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def isoformat(timestamp: float | None) -> str | None:
    """RFC 3339 with milliseconds and a Z, the way the API writes every timestamp."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_timestamp(value: str) -> float:
    """Parse an ISO 8601 date or date-time (as used by list filters) into Unix seconds."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
