"""Production refuses a Stripe key without the webhook's signing secret."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _load_production(**variables) -> subprocess.CompletedProcess:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("STRIPE_", "REPLICATE_", "DJANGO_"))
    }
    env.update(DJANGO_SECRET_KEY="x" * 50, ALLOWED_HOSTS="avatars.example.com", **variables)
    return subprocess.run(
        [sys.executable, "-c", "import config.settings.production"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_secret_key_without_a_webhook_secret_refuses_to_start():
    refused = _load_production(STRIPE_SECRET_KEY="sk_live_x")
    assert refused.returncode != 0
    assert "ImproperlyConfigured" in refused.stderr
    assert "STRIPE_WEBHOOK_SECRET must be set" in refused.stderr


def test_both_keys_or_none_start():
    both = _load_production(STRIPE_SECRET_KEY="sk_live_x", STRIPE_WEBHOOK_SECRET="whsec_x")
    assert both.returncode == 0, both.stderr
    assert _load_production().returncode == 0
