"""Signing out revokes the access token sent with it, not only the refresh token."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.cache import cache
from rest_framework_simplejwt.tokens import AccessToken

from accounts.authentication import access_token_denied, access_token_revoke
from accounts.services import user_tokens_issue

pytestmark = pytest.mark.django_db


def test_logout_refuses_the_access_token_at_once(api, owner):
    tokens = user_tokens_issue(user=owner)
    other_device = user_tokens_issue(user=owner)
    bearer = f"Bearer {tokens['access']}"
    assert api.get("/api/v1/me/", HTTP_AUTHORIZATION=bearer).status_code == 200

    out = api.post(
        "/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, HTTP_AUTHORIZATION=bearer
    )
    assert out.status_code == 204

    refused = api.get("/api/v1/me/", HTTP_AUTHORIZATION=bearer)
    assert refused.status_code == 401
    assert refused.json()["code"] == "token_not_valid"
    refresh = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
    assert refresh.status_code == 401
    # Another device's session is not signed out.
    other = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {other_device['access']}")
    assert other.status_code == 200


def test_logout_without_or_with_a_bad_access_token_still_revokes_the_refresh(api, owner):
    for header in ({}, {"HTTP_AUTHORIZATION": "Bearer not-a-token"}):
        tokens = user_tokens_issue(user=owner)
        out = api.post("/api/v1/auth/logout/", {"refresh": tokens["refresh"]}, **header)
        assert out.status_code == 204
        again = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]})
        assert again.status_code == 401
        # The access token not sent is not revoked (it expires on its own).
        me = api.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
        assert me.status_code == 200


def test_a_denied_token_is_remembered_only_until_it_expires(owner):
    token = AccessToken.for_user(owner)
    token.set_exp(lifetime=timedelta(seconds=1))
    assert access_token_revoke(raw=str(token))
    assert access_token_denied(token)
    assert len([k for k in cache._cache if "jwt:denied-access" in k]) == 1
    time.sleep(2.2)
    assert not access_token_denied(token)  # the cache entry is gone with the token's validity
    assert not access_token_revoke(raw="not-a-token")
