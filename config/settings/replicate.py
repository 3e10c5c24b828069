"""Replicate: where the API is, how long a call may take, how tasks retry, webhooks.

Part of base.py, which star-imports it.
"""

import environ

env = environ.Env()

# --- Replicate ------------------------------------------------------------------------------
# With a token the real API is used; without one, the bundled simulator (started by `make run`).
REPLICATE_API_TOKEN = env("REPLICATE_API_TOKEN", default="")
REPLICATE_USES_SIMULATOR = not REPLICATE_API_TOKEN
SIMULATOR_PORT = env.int("SIMULATOR_PORT", default=8010)
REPLICATE_BASE_URL = env(
    "REPLICATE_BASE_URL",
    default="https://api.replicate.com"
    if REPLICATE_API_TOKEN
    else f"http://127.0.0.1:{SIMULATOR_PORT}",
).rstrip("/")
REPLICATE_SIMULATOR_TOKEN = env("REPLICATE_SIMULATOR_TOKEN", default="r8_simulator_local_token")
REPLICATE_OWNER = env("REPLICATE_OWNER", default="avatars")
REPLICATE_TRAINER_MODEL = env("REPLICATE_TRAINER_MODEL", default="ostris/flux-dev-lora-trainer")
REPLICATE_TRAINER_VERSION = env(
    "REPLICATE_TRAINER_VERSION",
    default="4ffd32160efd92e956d39c5338a9b8fbafca58e03f791f6d8011f3e20e8ea6fa",
)
REPLICATE_HARDWARE = env("REPLICATE_HARDWARE", default="gpu-h100")
REPLICATE_TIMEOUT_SECONDS = env.float("REPLICATE_TIMEOUT_SECONDS", default=30.0)
# File uploads (a training's zip) may need longer than the other calls.
REPLICATE_UPLOAD_TIMEOUT_SECONDS = env.float("REPLICATE_UPLOAD_TIMEOUT_SECONDS", default=120.0)
# First wait before retrying a failed call; it doubles each attempt, with jitter.
REPLICATE_RETRY_BASE_SECONDS = env.float("REPLICATE_RETRY_BASE_SECONDS", default=0.5)
# Tasks that find Replicate busy or down try again after up to 2, 4, 8… seconds (full jitter,
# at most 120). A submission keeps trying for REPLICATE_SUBMIT_WINDOW_SECONDS from the moment
# the job was queued; then it fails with a plain reason, refunds and tells its owner. A refresh
# gives up after REPLICATE_TASK_MAX_RETRIES tries and is left to reconciliation.
REPLICATE_TASK_RETRY_BACKOFF_SECONDS = env.int("REPLICATE_TASK_RETRY_BACKOFF_SECONDS", default=2)
REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS = env.int(
    "REPLICATE_TASK_RETRY_BACKOFF_MAX_SECONDS", default=120
)
REPLICATE_SUBMIT_WINDOW_SECONDS = env.int("REPLICATE_SUBMIT_WINDOW_SECONDS", default=600)
REPLICATE_TASK_MAX_RETRIES = env.int("REPLICATE_TASK_MAX_RETRIES", default=8)
# How a job on Replicate (core.remote_jobs) captures or refunds its credits when it ends.
REMOTE_JOB_CREDITS_SETTLE = "accounts.services.credits_settle"
# For fault tests only: a worker sleeps this long between a create on Replicate and recording
# its id, so that a test can kill it there. Always 0 in production.
REMOTE_JOBS_TEST_PAUSE_AFTER_CREATE_SECONDS = env.float(
    "REMOTE_JOBS_TEST_PAUSE_AFTER_CREATE_SECONDS", default=0.0
)
REPLICATE_WEBHOOK_SECRET = env("REPLICATE_WEBHOOK_SECRET", default="")
# Accepted webhook ids are kept this long beyond the signature's 5-minute window: a retry
# carries the same id with a fresh timestamp, and Replicate retries for hours.
WEBHOOK_DELIVERY_KEEP_DAYS = env.int("WEBHOOK_DELIVERY_KEEP_DAYS", default=7)
