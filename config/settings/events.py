"""Events: webhooks to the endpoints people register, and the Server-Sent Events stream.

Part of base.py, which star-imports it.
"""

import environ

env = environ.Env()

# Deliveries may go to private, loopback and link-local addresses, and over plain http. Only for
# tests and a development machine: in production this is the SSRF guard (events.http).
EVENTS_ALLOW_PRIVATE_ADDRESSES = env.bool("EVENTS_ALLOW_PRIVATE_ADDRESSES", default=False)
EVENTS_DELIVERY_TIMEOUT_SECONDS = env.float("EVENTS_DELIVERY_TIMEOUT_SECONDS", default=10.0)
# Waits after the 1st, 2nd… failed attempt (each with ±20 % jitter): 5 s, 5 min, 30 min, 2 h,
# 5 h, 10 h, 10 h: about 28 hours from the first attempt to the last.
EVENTS_RETRY_SCHEDULE_SECONDS = [
    int(seconds)
    for seconds in env.list(
        "EVENTS_RETRY_SCHEDULE_SECONDS", default=[5, 300, 1800, 7200, 18000, 36000, 36000]
    )
]
# An endpoint is disabled when every attempt has failed for this long, or this many in a row.
EVENTS_DISABLE_AFTER_FAILING_SECONDS = env.int(
    "EVENTS_DISABLE_AFTER_FAILING_SECONDS", default=24 * 60 * 60
)
EVENTS_DISABLE_AFTER_FAILURES = env.int("EVENTS_DISABLE_AFTER_FAILURES", default=100)
EVENTS_MAX_ENDPOINTS_PER_USER = env.int("EVENTS_MAX_ENDPOINTS_PER_USER", default=10)
# After a rotation the old secret signs too (a second signature) for this long.
EVENTS_SECRET_ROTATION_OVERLAP_SECONDS = env.int(
    "EVENTS_SECRET_ROTATION_OVERLAP_SECONDS", default=24 * 60 * 60
)
# Events are kept this long (the stream's Last-Event-ID resume, the delivery log, replays).
EVENTS_KEEP_DAYS = env.int("EVENTS_KEEP_DAYS", default=30)
# GET /api/v1/events/: each connection is closed after this many seconds (the client reconnects
# with Last-Event-ID), looks for new events this often and sends a comment this often.
EVENTS_STREAM_SECONDS = env.float("EVENTS_STREAM_SECONDS", default=60.0)
EVENTS_STREAM_POLL_SECONDS = env.float("EVENTS_STREAM_POLL_SECONDS", default=1.0)
EVENTS_STREAM_HEARTBEAT_SECONDS = env.float("EVENTS_STREAM_HEARTBEAT_SECONDS", default=15.0)
# Streams open at once in one web process; past it, 503 with Retry-After (a stream holds a
# thread: see WEB_THREADS).
EVENTS_STREAM_MAX_PER_PROCESS = env.int("EVENTS_STREAM_MAX_PER_PROCESS", default=2)
