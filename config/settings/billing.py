"""Payments: credit packs bought through Stripe Checkout (the `billing` app).

Part of base.py, which star-imports it. Payments are off until both keys are set: without
them the "Buy credits" page says credits come from the administrator and /webhooks/stripe/
answers 404.
"""

import environ

env = environ.Env()

STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
# The signing secret of the webhook endpoint (whsec_…), from the Stripe dashboard or from
# `stripe listen` in test mode.
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
# Where the Stripe API is; tests point it at a local fake.
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com").rstrip("/")
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=20.0)
# Signed events older than this are refused (a replayed capture of an old delivery).
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
