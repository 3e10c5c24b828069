"""Settings for the test suite. Integration tests start a real Celery worker themselves."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES, VAR_DIR, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Unit tests run tasks inline; tests marked for a live worker switch this off.
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True

REPLICATE_RETRY_BASE_SECONDS = 0.02
# A training's success would start generations (and spend credits) in every test that trains:
# the starter pack's own tests turn it on.
STARTER_PACK_ENABLED = env.bool("STARTER_PACK_ENABLED", default=False)
# Most tests train a model without its consent selfie: the selfie's own tests turn it on.
LIKENESS_SELFIE_REQUIRED = env.bool("LIKENESS_SELFIE_REQUIRED", default=False)

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
if env("TEST_EMAIL_FOLDER", default=""):
    # A worker that a test starts writes its mail there, for the test to read.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env("TEST_EMAIL_FOLDER")

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a worker process started by a test sees the same database;
    # named by process so that two test runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}

# Static files come straight from the source folders: no collectstatic before tests.
STORAGES = {
    **STORAGES,
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
STATIC_ROOT = None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

# Events are delivered to receivers the tests run on 127.0.0.1 (events.http).
EVENTS_ALLOW_PRIVATE_ADDRESSES = True
