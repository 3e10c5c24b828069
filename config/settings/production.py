"""Production: secrets and hosts must come from the environment, HTTPS everywhere.

`DJANGO_SETTINGS_MODULE=config.settings.production manage.py check --deploy` is clean.
"""

import base64
import binascii

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import REPLICATE_API_TOKEN, REPLICATE_WEBHOOK_SECRET, env

SECRET_KEY = env("DJANGO_SECRET_KEY")
DEBUG = False
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
# A worker per queue (Procfile.production): Replicate and webhooks never wait behind pictures.
TASK_QUEUES_BY_SHAPE = env.bool("TASK_QUEUES_BY_SHAPE", default=True)

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
# Health probes come from the load balancer over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

# With a real Replicate token, webhooks are verified with a secret given here, never one fetched
# on the first webhook: a fetch needs Replicate to answer at that moment, and a secret nobody
# configured is one nobody checked. (Without a token the bundled simulator is used, and `make
# lint` runs `check --deploy` that way.)
if REPLICATE_API_TOKEN:
    if not REPLICATE_WEBHOOK_SECRET:
        raise ImproperlyConfigured(
            "REPLICATE_WEBHOOK_SECRET must be set when REPLICATE_API_TOKEN is: copy it from "
            "https://replicate.com/account/webhook (or GET /v1/webhooks/default/secret)."
        )
    _prefix, _, _key = REPLICATE_WEBHOOK_SECRET.partition("_")
    try:
        if _prefix != "whsec" or not base64.b64decode(_key):  # as the verifier decodes it
            raise ValueError
    except (ValueError, binascii.Error):
        raise ImproperlyConfigured(
            "REPLICATE_WEBHOOK_SECRET is not a signing secret: it starts with whsec_."
        ) from None

# Payments: a Stripe key without the webhook's signing secret would take money and never grant
# the credits (every event refused), so it is a configuration error, not "payments off".
if env("STRIPE_SECRET_KEY", default="") and not env("STRIPE_WEBHOOK_SECRET", default=""):
    raise ImproperlyConfigured(
        "STRIPE_WEBHOOK_SECRET must be set when STRIPE_SECRET_KEY is: the signing secret "
        "(whsec_…) of the endpoint /webhooks/stripe/ in the Stripe dashboard."
    )

# Event deliveries to private or loopback addresses would let anyone who registers an endpoint
# reach the operator's internal network from the worker (SSRF): never in production.
if env.bool("EVENTS_ALLOW_PRIVATE_ADDRESSES", default=False):
    raise ImproperlyConfigured(
        "EVENTS_ALLOW_PRIVATE_ADDRESSES is for tests and development machines only."
    )
