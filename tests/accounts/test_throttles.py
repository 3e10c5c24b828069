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


def test_the_auth_scope_answers_429_with_retry_after(api, rates):
    rates(auth="3/min")
    statuses = [api.post("/api/v1/auth/verify-email/", {"key": "x"}).status_code for _ in range(4)]
    assert statuses == [400, 400, 400, 429]
    response = api.post("/api/v1/auth/token/", {"email": "a@example.com", "password": "x"})
    assert response.status_code == 429
    assert response.json()["code"] == "throttled"
    assert 0 < int(response["Retry-After"]) <= 60


def test_users_are_throttled_per_user(as_user, owner, other_user, rates):
    rates(user="2/min")
    client = as_user(owner)
    assert [client.get("/api/v1/me/").status_code for _ in range(3)] == [200, 200, 429]
    assert as_user(other_user).get("/api/v1/me/").status_code == 200


def test_anonymous_requests_are_throttled_per_ip(api, rates):
    rates(anon="2/min", auth="100/min")
    url = "/api/v1/auth/verify-email/"
    codes = [api.post(url, {"key": "x"}, REMOTE_ADDR="10.0.0.5").status_code for _ in range(3)]
    assert codes == [400, 400, 429]
    assert api.post(url, {"key": "x"}, REMOTE_ADDR="10.0.0.6").status_code == 400
