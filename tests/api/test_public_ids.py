"""Ids the API shows for users and credit entries are random UUIDs, never the sequential
primary keys; the e-mail confirmation key is a stored random key that names no id."""

from __future__ import annotations

import re
import uuid

import pytest
from allauth.account.models import EmailConfirmation
from django.core import mail

from accounts.models import CreditEntry, User
from accounts.services import credits_grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_profile_shows_the_users_public_id(owner, as_user):
    body = as_user(owner).get("/api/v1/me/").json()
    assert uuid.UUID(body["id"]) == owner.public_id
    assert body["id"] != str(owner.pk)


def test_each_user_and_credit_entry_gets_its_own_random_id(owner, as_user):
    others = [UserFactory(email=f"u{n}@example.com") for n in range(3)]
    ids = {owner.public_id, *(user.public_id for user in others)}
    assert len(ids) == 4 and all(value.version == 4 for value in ids)
    credits_grant(user=owner, amount=10, reason="One")
    credits_grant(user=owner, amount=5, reason="Two")
    rows = as_user(owner).get("/api/v1/me/credits/").json()["results"]
    entries = {entry.public_id: entry for entry in CreditEntry.objects.filter(user=owner)}
    assert {uuid.UUID(row["id"]) for row in rows} == set(entries)
    assert not {row["id"] for row in rows} & {str(entry.pk) for entry in entries.values()}


def test_the_email_confirmation_key_is_random_and_names_no_id(api):
    response = api.post(
        "/api/v1/auth/register/",
        {"email": "nia@example.com", "password": "a-long enough passphrase 9"},
        format="json",
    )
    assert response.status_code == 201
    key = re.search(r"/accounts/confirm-email/([^/\s]+)/", mail.outbox[-1].body).group(1)
    user = User.objects.get(email="nia@example.com")
    # A stored key (allauth's HMAC key would be "<signed pk>:<signature>").
    assert EmailConfirmation.objects.filter(key=key, email_address__user=user).exists()
    assert ":" not in key and re.fullmatch(r"[a-z0-9]{64}", key)
    verified = api.post("/api/v1/auth/verify-email/", {"key": key}, format="json")
    assert verified.status_code == 200
    assert api.post("/api/v1/auth/verify-email/", {"key": key}).status_code == 400  # used


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_existing_rows_distinct_ids():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = ("accounts", "0004_public_ids_add")
    executor = MigrationExecutor(connection)
    executor.migrate([before])
    try:
        old_apps = executor.loader.project_state([before]).apps
        OldUser = old_apps.get_model("accounts", "User")
        OldEntry = old_apps.get_model("accounts", "CreditEntry")
        users = [OldUser.objects.create(email=f"old{n}@example.com") for n in range(3)]
        for user in users:
            OldEntry.objects.create(user=user, kind="grant", amount=1, reason="Old")
        assert not OldUser.objects.exclude(public_id=None).exists()
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())  # every app back to its latest
    ids = list(User.objects.filter(email__startswith="old").values_list("public_id", flat=True))
    entry_ids = list(CreditEntry.objects.values_list("public_id", flat=True))
    assert len(ids) == len(set(ids)) == 3 and None not in ids
    assert len(entry_ids) == len(set(entry_ids)) == 3 and None not in entry_ids


def test_tokens_carry_the_public_id_and_still_authenticate(api, owner):
    from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

    from accounts.services import user_tokens_issue
    from tests.factories import TEST_PASSWORD, verify_email

    verify_email(owner)
    signed_in = api.post(
        "/api/v1/auth/token/", {"email": owner.email, "password": TEST_PASSWORD}, format="json"
    )
    assert signed_in.status_code == 200, signed_in.json()
    for tokens in (signed_in.json(), user_tokens_issue(user=owner)):
        assert AccessToken(tokens["access"])["user_id"] == str(owner.public_id)
        assert RefreshToken(tokens["refresh"])["user_id"] == str(owner.public_id)
        me = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert me.status_code == 200 and me.json()["email"] == owner.email
        refreshed = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
        assert refreshed.status_code == 200
