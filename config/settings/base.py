"""Settings shared by every environment, read from the environment (django-environ).

The defaults describe the embedded mode: SQLite, local media, a filesystem Celery broker and
the bundled Replicate simulator, so a fresh checkout runs with no external service.
Production secrets have no default (see production.py).
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

# VAR_DIR holds everything the embedded mode writes: database, media, broker queue, caches.
VAR_DIR = Path(env("VAR_DIR", default=str(BASE_DIR / "var"))).resolve()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="insecure-embedded-mode-key-change-me")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

PORT = env.int("PORT", default=8000)
PUBLIC_BASE_URL = env("PUBLIC_BASE_URL", default=f"http://127.0.0.1:{PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # Accounts: sign-up, e-mail verification and JWT for the API.
    "allauth",
    "allauth.account",
    "rest_framework_simplejwt",
    "rest_framework_simplejwt.token_blacklist",
    "core",
    "accounts",
    "trainings",
    "gallery",
    "moderation",
    "events",
    "billing",
    "operations",
    "likeness",
]

MIDDLEWARE = [
    "core.middleware.RequestIdMiddleware",
    "core.middleware.RequestSizeMiddleware",  # 413 before anything reads a body too large
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "core.compression.TextGZipMiddleware",  # text only; BREACH: see core/compression.py
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",  # Accounts
    # API: RateLimit-* headers, ETags, Idempotency-Key (config/settings/api_safety.py)
    "accounts.throttles.RateLimitHeadersMiddleware",
    "core.conditional.ConditionalApiMiddleware",
    "core.idempotency.IdempotencyMiddleware",
    # A service's NotFound (a stranger's or a missing object) is the 404 page in HTML views.
    "core.http.NotFoundMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        # An operator's own templates (the terms, privacy and contact pages) come first.
        "DIRS": [*env.list("SITE_TEMPLATES_DIRS", default=[]), BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.site",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web, worker and beat write at once: WAL lets readers run beside the writer, the busy
    # timeout waits for the lock instead of failing, and IMMEDIATE takes the write lock at
    # BEGIN so two writers never deadlock upgrading a read lock.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(VAR_DIR / "static")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(VAR_DIR / "media")))
# Media is private: it is never served from MEDIA_URL, only through views that check the owner.
MEDIA_URL = "/media-private/"

AWS_STORAGE_BUCKET_NAME = env("AWS_STORAGE_BUCKET_NAME", default="")
AWS_S3_ENDPOINT_URL = env("AWS_S3_ENDPOINT_URL", default="") or None
USE_S3 = bool(AWS_STORAGE_BUCKET_NAME)

if USE_S3:
    AWS_ACCESS_KEY_ID = env("AWS_ACCESS_KEY_ID", default=None)
    AWS_SECRET_ACCESS_KEY = env("AWS_SECRET_ACCESS_KEY", default=None)
    AWS_S3_REGION_NAME = env("AWS_S3_REGION_NAME", default="us-east-1")
    AWS_DEFAULT_ACL = None  # objects stay private; the bucket policy decides
    AWS_QUERYSTRING_AUTH = True
    AWS_QUERYSTRING_EXPIRE = env.int("AWS_QUERYSTRING_EXPIRE", default=300)
    AWS_S3_FILE_OVERWRITE = False
    AWS_S3_SIGNATURE_VERSION = "s3v4"
    AWS_S3_ADDRESSING_STYLE = env("AWS_S3_ADDRESSING_STYLE", default="auto")
    default_storage_backend = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"location": env("AWS_LOCATION", default="")},
    }
else:
    default_storage_backend = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }

STORAGES = {
    "default": default_storage_backend,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Memory bounds (core.middleware.RequestSizeMiddleware, core.limits) ----------------------
# Files of a request over 5 MB go to temporary files; other fields (JSON, a webhook) are capped
# at 30 MB; a body over REQUEST_MAX_BYTES (DATASET_UPLOAD_MAX_REQUEST_BYTES for a dataset upload:
# 30 photos of 25 MB, plus framing) is answered 413 from its Content-Length, unread.
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 30 * 1024 * 1024
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=64 * 1024 * 1024)
DATASET_UPLOAD_MAX_REQUEST_BYTES = env.int("DATASET_UPLOAD_MAX_REQUEST_BYTES", default=766 << 20)
# A decode takes memory by pixels, not file size: 10 bytes a pixel at worst (measured, counted as
# 12). A process decodes one at a time; each worker process gets its share of WORKER_IMAGE_MEMORY_MB
# (1024 MB / 2 / 12 = 44 MP; a phone writes 12). IMAGE_MAX_PIXELS replaces the derivation.
WORKER_CONCURRENCY = env.int("WORKER_CONCURRENCY", default=2)  # the Procfile passes it to Celery
WORKER_IMAGE_MEMORY_MB = env.int("WORKER_IMAGE_MEMORY_MB", default=1024)
IMAGE_DECODE_BYTES_PER_PIXEL = 12
_DECODE_SHARE = (WORKER_IMAGE_MEMORY_MB << 20) // WORKER_CONCURRENCY // IMAGE_DECODE_BYTES_PER_PIXEL
IMAGE_MAX_PIXELS = env.int("IMAGE_MAX_PIXELS", default=_DECODE_SHARE // 10**6 * 10**6)
if IMAGE_MAX_PIXELS < 12_000_000:  # phone photos would be refused
    raise ImproperlyConfigured("IMAGE_MAX_PIXELS < 12 MP: raise WORKER_IMAGE_MEMORY_MB")
IMAGE_DECODES_AT_ONCE = env.int("IMAGE_DECODES_AT_ONCE", default=1)  # per process, any threads
IMAGE_DECODE_WAIT_SECONDS = env.float("IMAGE_DECODE_WAIT_SECONDS", default=30.0)  # then a 503

# --- Cache, broker, Celery ------------------------------------------------------------------
REDIS_URL = env("REDIS_URL", default="")


def _redis_next_database(url: str) -> str:
    """The same Redis server, the database after the URL's (redis://host:6379/0 → …/1)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":  # unix:///run/redis.sock?db=0: the database is in the query
        query = dict(parse_qsl(parts.query))
        query["db"] = str(int(query.get("db") or 0) + 1)
        return f"{url.split('?', 1)[0]}?{urlencode(query)}"
    database = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{database + 1}"))


# The cache has a Redis database of its own, apart from the broker's (REDIS_URL): flushing
# the cache, or Redis evicting cache keys, must never drop queued tasks.
REDIS_CACHE_URL = env(
    "REDIS_CACHE_URL", default=_redis_next_database(REDIS_URL) if REDIS_URL else ""
)

if REDIS_CACHE_URL:
    CACHES = {
        "default": {
            # Django's Redis cache, served from each process's memory while Redis does not
            # answer, so that throttles and lockouts never turn an outage into 500s.
            "BACKEND": "core.cache.FailOpenRedisCache",
            "LOCATION": REDIS_CACHE_URL,
        }
    }
else:
    # A file cache is shared by every process of the embedded mode (rate limits need that).
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

CELERY_BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_BROKER_DIR / "queue"),
        "data_folder_out": str(CELERY_BROKER_DIR / "queue"),
        "processed_folder": str(CELERY_BROKER_DIR / "processed"),
        "control_folder": str(CELERY_BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- E-mail ---------------------------------------------------------------------------------
EMAIL_URL = env("EMAIL_URL", default="")
if EMAIL_URL:
    vars().update(env.email_url("EMAIL_URL"))
else:
    # Embedded mode: each message is written to a file a person can open.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Avatars <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
CONTACT_EMAIL = env("CONTACT_EMAIL", default="")  # shown on the contact and privacy pages

# --- Replicate: config/settings/replicate.py ----------------------------------------------
from .api_safety import *  # noqa: E402, F403 (API retries, ETags: config/settings/api_safety.py)
from .billing import *  # noqa: E402, F403 (payments, Stripe: config/settings/billing.py)
from .events import *  # noqa: E402, F403 (events and webhooks: config/settings/events.py)
from .replicate import *  # noqa: E402, F403

# --- Accounts -------------------------------------------------------------------------------
# Sign-up, e-mail verification, login, password reset and e-mail change are django-allauth's.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"  # the dashboard
AUTHENTICATION_BACKENDS = [
    # First: refuses every attempt while an account or an IP is locked out (admin included).
    "accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
ACCOUNT_ADAPTER = "accounts.adapter.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "accounts.forms.SignupExtraForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_CHANGE_EMAIL = True  # one address; a new one replaces it once verified
ACCOUNT_EMAIL_NOTIFICATIONS = True  # tell the owner when the password or e-mail changes
ACCOUNT_LOGOUT_REDIRECT_URL = "home"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Avatars] "
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_RATE_LIMITS = {
    # The lockout below (accounts.lockout) is what stops password guessing; allauth's own
    # limit on failed logins stays as a looser backstop.
    "login_failed": "20/15m/ip,10/15m/key",
    "login": "30/m/ip",
    "signup": "20/h/ip",
    "reset_password": "20/h/ip,5/h/key",
    "reset_password_from_key": "20/h/ip",
    "change_password": "5/m/user",
    "manage_email": "10/m/user",
    "confirm_email": "1/3m/key",
    "reauthenticate": "10/m/user",
}
# Behind N reverse proxies, the client's address is the N-th from the right in X-Forwarded-For.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT

# Lockout after repeated failed sign-ins (web, admin and API), counted in the cache.
LOGIN_LOCKOUT_FAILURES = env.int("LOGIN_LOCKOUT_FAILURES", default=5)  # per account
LOGIN_LOCKOUT_IP_FAILURES = env.int("LOGIN_LOCKOUT_IP_FAILURES", default=20)  # per IP
LOGIN_LOCKOUT_WINDOW_SECONDS = 15 * 60
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)

DATA_EXPORT_TTL_HOURS = env.int("DATA_EXPORT_TTL_HOURS", default=48)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env.int("JWT_ACCESS_MINUTES", default=15)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env.int("JWT_REFRESH_DAYS", default=30)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": True,
    "CHECK_REVOKE_TOKEN": True,  # a password change invalidates access tokens at once
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "public_id",  # tokens (readable by their holder) name no sequential id
}

# --- Trainings: config/settings/trainings.py ---------------------------------------------
from .trainings import *  # noqa: E402, F403

# --- Gallery --------------------------------------------------------------------------------
# Credits per output image (1 credit = 1 US cent), by FLUX model; the default model is schnell.
GENERATION_CREDITS_PER_IMAGE_DEV = env.int("GENERATION_CREDITS_PER_IMAGE_DEV", default=4)
GENERATION_CREDITS_PER_IMAGE_SCHNELL = env.int("GENERATION_CREDITS_PER_IMAGE_SCHNELL", default=1)
# How long POST /api/v1/image/{model} waits for the first picture before answering 202
# (keep it under the web server's request timeout: gunicorn's is 30 s).
GENERATION_SYNC_WAIT_SECONDS = env.float("GENERATION_SYNC_WAIT_SECONDS", default=15.0)
# Threads of each web process (the Procfile passes it to gunicorn). At most this many callers
# per process wait on the simple service at once; others get 202 and a Location to poll, so
# waiting callers can never take all of a process's threads from the rest of the site.
WEB_THREADS = env.int("WEB_THREADS", default=4)
GENERATION_SYNC_MAX_WAITERS = env.int(
    "GENERATION_SYNC_MAX_WAITERS", default=max(1, WEB_THREADS // 4)
)
# A generation with no news for this long is polled (a webhook may have been lost).
GENERATION_RECONCILE_AFTER_SECONDS = env.int("GENERATION_RECONCILE_AFTER_SECONDS", default=60)
GENERATION_MAX_BATCH = env.int("GENERATION_MAX_BATCH", default=4)  # requests sent at once
# Replicate's own safety checker on every prediction. People cannot turn it off; only this can.
GENERATION_SAFETY_CHECKER = env.bool("GENERATION_SAFETY_CHECKER", default=True)
# Lifetime of the presigned S3 URLs that gallery pictures redirect to.
GALLERY_PRESIGN_EXPIRY_SECONDS = env.int("GALLERY_PRESIGN_EXPIRY_SECONDS", default=120)
GALLERY_PAGE_SIZE = env.int("GALLERY_PAGE_SIZE", default=30)
GALLERY_ZIP_MAX_IMAGES = env.int("GALLERY_ZIP_MAX_IMAGES", default=200)
SHARE_LINK_DEFAULT_DAYS = env.int("SHARE_LINK_DEFAULT_DAYS", default=7)
SHARE_LINK_MAX_DAYS = env.int("SHARE_LINK_MAX_DAYS", default=365)

# --- Moderation: config/settings/moderation.py -------------------------------------------

# --- REST API -------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Accounts: rates are read at request time, so settings (and tests) can change them.
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.throttles.AnonThrottle",
        "accounts.throttles.UserThrottle",
        "accounts.throttles.ScopedThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", default="60/min"),
        "user": env("API_THROTTLE_USER", default="1200/min"),
        "auth": env("API_THROTTLE_AUTH", default="20/min"),
        "generation": env("API_THROTTLE_GENERATION", default="60/hour"),
        "training": env("API_THROTTLE_TRAINING", default="20/hour"),
    },
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "core.api.DefaultCursorPagination",
    "PAGE_SIZE": 30,
    "DEFAULT_SCHEMA_CLASS": "core.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # Bodies are JSON; the views that take files name their multipart parser (schema: one
    # media type per body).
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Avatars API",
    "DESCRIPTION": (BASE_DIR / "docs" / "api.md").read_text(),  # the guide for client developers
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    # Read-only fields are `required` too (the server always sends them): no Optional/Unset
    # for what is always there in a generated client.
    "COMPONENT_NO_READ_ONLY_REQUIRED": False,
    # One stable name per choice set, whichever serializer meets it first.
    "ENUM_NAME_OVERRIDES": {
        "ErrorCodeEnum": "core.schema.ERROR_CODES",
        "AspectRatioEnum": "gallery.apis.serializers.ASPECT_RATIO_CHOICES",
        "BaseModelEnum": "gallery.services.parameters.FLUX_MODELS",
        "OutputFormatEnum": "gallery.services.parameters.OUTPUT_FORMATS",
        "MegapixelsEnum": "gallery.services.parameters.MEGAPIXELS",
        "GenerationStatusEnum": "gallery.models.Generation.Status",
        "GenerationKindEnum": "gallery.models.Generation.Kind",
        "GenerationSourceEnum": "gallery.models.Generation.Source",
        "ModerationStateEnum": "gallery.models.GeneratedImage.Moderation",
        "ReportStatusEnum": "gallery.models.ImageReport.Status",
        "DecisionEnum": "gallery.models.ImageDecision.Decision",
        "VerdictEnum": "gallery.models.ImageScan.Verdict",
        "TrainingRunStatusEnum": "trainings.models.TrainingRun.Status",
        "DatasetImageStatusEnum": "trainings.models.DatasetImage.Status",
        "ShotTypeEnum": "trainings.models.DatasetImage.ShotType",
        "LoraModelStatusEnum": "trainings.models.LoraModel.Status",
        "DatasetTargetSizeEnum": "trainings.models.Dataset.TargetSize",
        "FindingCodeEnum": "trainings.apis.datasets.FINDING_CODES",
        "CreditEntryKindEnum": "accounts.models.CreditEntry.Kind",
        "DataExportStatusEnum": "accounts.models.DataExport.Status",
        "CategoryEnum": "moderation.models.Category",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api_headers.api_headers_postprocess",
    ],
}

# --- Logging --------------------------------------------------------------------------------
LOG_LEVEL = env("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "core.logging.RequestIdFilter"}},
    "formatters": {
        "line": {
            "format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s",
        },
    },
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "filters": ["request_id"],
            "formatter": "line",
        },
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR", "propagate": True},
        "django.server": {"level": "WARNING", "propagate": True},
        "httpx": {"level": "WARNING", "propagate": True},
    },
}

# --- Security defaults (tightened further in production.py) ---------------------------------
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # htmx takes the token from the page, never from the cookie
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
from .display import *  # noqa: E402, F403 (form renderer, date formats: config/settings/display.py)
from .likeness import *  # noqa: E402, F403 (face identity and likeness: config/settings/likeness.py)
from .moderation import *  # noqa: E402, F403 (the image classifier, strikes)
from .operations import *  # noqa: E402, F403 (operator dashboard: config/settings/operations.py)
from .queues import *  # noqa: E402, F403 (Celery queues by the shape of work: queues.py)
from .throughput import *  # noqa: E402, F403 (the generation path: throughput.py)
