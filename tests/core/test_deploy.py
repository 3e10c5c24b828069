"""Production settings: the deploy checklist is clean, and secrets have no default."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args, env_overrides):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ALLOWED_"))}
    env.update(env_overrides)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "DJANGO_SECRET_KEY": "k" * 20 + "9f8e7d6c5b4a3!@#$%^&*()_+=-0987654321zyxwvu",
            "ALLOWED_HOSTS": "avatars.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = _manage(
        "check",
        env_overrides={
            "DJANGO_SETTINGS_MODULE": "config.settings.production",
            "ALLOWED_HOSTS": "avatars.example.com",
        },
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


_PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "k" * 20 + "9f8e7d6c5b4a3!@#$%^&*()_+=-0987654321zyxwvu",
    "ALLOWED_HOSTS": "avatars.example.com",
}
_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # the shape Replicate gives


def test_production_refuses_a_real_token_without_a_webhook_secret():
    result = _manage(
        "check",
        env_overrides={
            **_PRODUCTION,
            "REPLICATE_API_TOKEN": "r8_live_token_for_the_test",
            "REPLICATE_WEBHOOK_SECRET": "",
        },
    )
    assert result.returncode != 0
    assert "REPLICATE_WEBHOOK_SECRET" in result.stderr
    assert "ImproperlyConfigured" in result.stderr


def test_production_refuses_a_webhook_secret_that_is_not_one():
    result = _manage(
        "check",
        env_overrides={
            **_PRODUCTION,
            "REPLICATE_API_TOKEN": "r8_live_token_for_the_test",
            "REPLICATE_WEBHOOK_SECRET": "my-webhook-password",
        },
    )
    assert result.returncode != 0
    assert "REPLICATE_WEBHOOK_SECRET" in result.stderr


def test_production_starts_with_a_real_token_and_its_webhook_secret():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_overrides={
            **_PRODUCTION,
            "REPLICATE_API_TOKEN": "r8_live_token_for_the_test",
            "REPLICATE_WEBHOOK_SECRET": _SECRET,
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_without_a_token_needs_no_webhook_secret():
    """What `make lint` runs: the simulator backend, no token, no secret."""
    result = _manage(
        "check",
        env_overrides={**_PRODUCTION, "REPLICATE_API_TOKEN": "", "REPLICATE_WEBHOOK_SECRET": ""},
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_refuses_event_deliveries_to_private_addresses():
    result = _manage(
        "check", env_overrides={**_PRODUCTION, "EVENTS_ALLOW_PRIVATE_ADDRESSES": "true"}
    )
    assert result.returncode != 0
    assert "EVENTS_ALLOW_PRIVATE_ADDRESSES" in result.stderr
