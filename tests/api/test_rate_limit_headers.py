"""RateLimit-Limit / -Remaining / -Reset on throttled answers, from the most restrictive
throttle (accounts.throttles)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def rates(settings):
    def set_rates(**overrides):
        settings.REST_FRAMEWORK = {
            **settings.REST_FRAMEWORK,
            "DEFAULT_THROTTLE_RATES": {
                **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
                **overrides,
            },
        }

    return set_rates


def _limits(response) -> tuple[int, int, int]:
    return (
        int(response["RateLimit-Limit"]),
        int(response["RateLimit-Remaining"]),
        int(response["RateLimit-Reset"]),
    )


def test_a_users_reads_count_down_then_429_with_retry_after(owner, as_user, rates):
    rates(user="3/min")
    client = as_user(owner)
    answers = [client.get("/api/v1/me/") for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert [_limits(a)[:2] for a in answers] == [(3, 2), (3, 1), (3, 0), (3, 0)]
    assert all(0 < _limits(a)[2] <= 60 for a in answers)
    assert 0 < int(answers[-1]["Retry-After"]) <= 60


def test_the_most_restrictive_throttle_gives_the_headers(api, rates):
    url = "/api/v1/auth/verify-email/"
    rates(auth="3/min", anon="100/min")
    response = api.post(url, {"key": "x"}, REMOTE_ADDR="10.0.0.7")
    assert _limits(response)[:2] == (3, 2)  # the auth scope, not the anonymous limit
    rates(auth="100/hour", anon="5/min")
    response = api.post(url, {"key": "x"}, REMOTE_ADDR="10.0.0.8")
    assert _limits(response)[:2] == (5, 4)  # now the anonymous limit is the tighter one
    rates(auth="4/hour", anon="4/min")
    response = api.post(url, {"key": "x"}, REMOTE_ADDR="10.0.0.9")
    limit, remaining, reset = _limits(response)
    assert (limit, remaining) == (4, 3) and 60 < reset <= 3600  # a tie: the longer wait


def test_unthrottled_answers_carry_no_headers(owner, as_user):
    # Reading the training runs is not throttled (only starting one is).
    response = as_user(owner).get("/api/v1/trainings/")
    assert response.status_code == 200
    assert not response.has_header("RateLimit-Limit")


def test_an_if_match_check_counts_as_one_request(owner, as_user, rates):
    rates(user="5/min")
    client = as_user(owner)
    etag = client.get("/api/v1/me/")["ETag"]
    changed = client.patch("/api/v1/me/", {"display_name": "A"}, HTTP_IF_MATCH=etag)
    assert changed.status_code == 200
    assert _limits(changed)[:2] == (5, 3)  # the internal read of the resource is not counted
