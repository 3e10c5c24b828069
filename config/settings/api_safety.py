"""Safe retries and caching on the API: Idempotency-Key (core.idempotency), conditional requests
(core.conditional), rate-limit headers (accounts.throttles); ids that tell nothing.

Part of base.py, which star-imports it.
"""

import environ

env = environ.Env()

# A key is remembered this long; a retry with it gets the first answer, then it may be reused.
IDEMPOTENCY_KEY_TTL_HOURS = env.int("IDEMPOTENCY_KEY_TTL_HOURS", default=24)
# A request still "running" after this long died with its process: a retry may take its key
# over. Longer than any request may run (gunicorn's timeout is 30 s).
IDEMPOTENCY_LOCK_SECONDS = env.int("IDEMPOTENCY_LOCK_SECONDS", default=300)
# Answers larger than this (a picture of the simple service) are not kept: the key is freed.
IDEMPOTENCY_MAX_STORED_BYTES = env.int("IDEMPOTENCY_MAX_STORED_BYTES", default=20 * 1024 * 1024)
# The routes (namespaced URL names) whose POST takes an Idempotency-Key: they spend credits or
# start work.
IDEMPOTENT_ROUTES = [
    "api:gallery-generations",  # POST generations/
    "api:gallery-simple-image",  # POST image/{model_name}
    "api:trainings",  # POST trainings/
    "api:training-retry",  # POST trainings/{id}/retry/
    "api:dataset-images",  # POST datasets/{id}/images/ (multipart uploads)
    "api:me-export",  # POST me/export/
]

# E-mail confirmation keys are stored random keys: allauth's HMAC keys sign the address's
# sequential id, which anyone holding a link could read.
ACCOUNT_EMAIL_CONFIRMATION_HMAC = False
