"""Data of the site `python -m bench simple_image` starts, made in its own database:
`python manage.py shell -c "from bench.site_seed import seed; seed(30)"` prints, as JSON, an
access token for a person with a gallery of `images` pictures and one for a caller of the
simple service (no plan limits, plenty of credits)."""

from __future__ import annotations

import json

from accounts.models import Plan
from accounts.services import credits_grant, user_tokens_issue
from tests.factories import UserFactory
from tests.gallery.factories import make_image


def seed(images: int) -> None:
    plan = Plan.objects.create(name="Benchmark (no limits)")
    viewer = UserFactory(email="gallery@bench.example", plan=plan)
    caller = UserFactory(email="caller@bench.example", plan=plan)
    credits_grant(user=caller, amount=100_000, reason="Benchmark")
    for index in range(images):
        make_image(viewer, color=(index * 8 % 256, 120, 60))
    tokens = {
        "viewer": user_tokens_issue(user=viewer)["access"],
        "caller": user_tokens_issue(user=caller)["access"],
    }
    print(json.dumps(tokens))
