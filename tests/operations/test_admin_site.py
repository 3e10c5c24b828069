"""The admin as an operator sees it: one section per thing, plans with their limits, each
user's plan and activity, the site's name and icon, and the way to the dashboard."""

from collections import Counter
from datetime import UTC, datetime, time

import pytest
from django.utils import timezone

from accounts.models import Plan, User
from gallery.models import Generation
from tests.factories import verify_email
from tests.gallery.factories import make_generation

from .helpers import admin_index_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user():
    return User.objects.create_superuser(email="boss@example.com", password="x-pass-phrase-1")


def test_the_admin_index_shows_each_section_and_model_once(client, admin_user):
    client.force_login(admin_user)
    response = client.get("/admin/")
    assert response.status_code == 200
    index = admin_index_of(response.content.decode())
    assert index.models, "no model rows found: the parser no longer matches the page"
    assert [name for name, n in Counter(index.sections).items() if n > 1] == []
    assert [name for name, n in Counter(index.models).items() if n > 1] == []
    assert "Plans" in index.models
    # Bookkeeping of allauth and simplejwt is not shown; the user's page has the addresses.
    for hidden in ("Email addresses", "Email confirmations", "Outstanding Tokens"):
        assert hidden not in index.models
    assert "Token Blacklist" not in index.sections


def test_plans_are_listed_with_their_limits(client, admin_user):
    Plan.objects.create(name="Studio", max_models=7, max_generations_per_day=250)
    client.force_login(admin_user)
    html = client.get("/admin/accounts/plan/").content.decode()
    assert "Studio" in html
    assert "Max generations per day" in html and ">250<" in html
    assert "Users (chosen, not by default)" in html


def test_the_user_list_shows_each_users_plan(client, admin_user, owner):
    owner.plan = Plan.objects.create(name="Studio")
    owner.save()
    client.force_login(admin_user)
    html = client.get("/admin/accounts/user/").content.decode()
    assert "Studio" in html
    assert "Default plan" in html  # the administrator has none chosen


def test_the_user_page_shows_their_activity_and_addresses(client, admin_user, owner, other_user):
    verify_email(owner)
    today = datetime.combine(timezone.now().astimezone(UTC).date(), time(0), tzinfo=UTC)
    make_generation(owner, metrics={"predict_time": 40.0}, created_at=today)
    make_generation(owner, status=Generation.Status.FAILED, error_message="x", created_at=today)
    make_generation(other_user, created_at=today)
    client.force_login(admin_user)
    html = client.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    assert "Generations started / succeeded / failed" in html
    assert "2 / 1 / 1" in html  # the owner's, not the other user's
    assert "40.0 ($0.03)" in html  # 40 s × $0.000725
    assert f"/staff/dashboard/?days=30&amp;user={owner.public_id}" in html
    assert "owner@example.com" in html and "e-mail addresses" in html.lower()


def test_admin_pages_carry_the_site_name_the_icon_and_the_dashboard_link(client, admin_user):
    login = client.get("/admin/login/").content.decode()
    assert 'rel="icon" href="/static/img/favicon.svg"' in login
    assert "Avatars administration" in login
    client.force_login(admin_user)
    for path in ("/admin/", "/admin/accounts/user/", "/admin/accounts/plan/add/"):
        html = client.get(path).content.decode()
        assert 'rel="icon" href="/static/img/favicon.svg"' in html, path
        assert "<title>" in html and "Avatars admin</title>" in html, path
        assert 'href="/staff/dashboard/"' in html, path
