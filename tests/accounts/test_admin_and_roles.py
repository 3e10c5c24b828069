import pytest
from django.contrib.auth.models import Group

from accounts.models import CreditEntry, Plan, User
from accounts.selectors import credit_balance, user_is_moderator
from accounts.services import credits_grant, user_moderator_grant
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator():
    user = UserFactory(email="mod@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="moderator"))
    return user


@pytest.fixture
def admin_user():
    return User.objects.create_superuser(email="boss@example.com", password="x-pass-phrase-1")


def test_moderators_may_moderate_and_see_nothing_else_of_the_admin(client, moderator):
    assert user_is_moderator(user=moderator)
    client.force_login(moderator)
    # Not even an empty index: every admin page sends them to the admin's sign-in page.
    index = client.get("/admin/")
    assert index.status_code == 302
    assert index["Location"].startswith("/admin/login/")
    for path in (
        "/admin/accounts/user/",
        "/admin/accounts/creditentry/",
        "/admin/accounts/plan/",
        "/admin/auth/group/",
        f"/admin/accounts/user/{moderator.pk}/change/",
        "/admin/password_change/",
    ):
        assert client.get(path).status_code in (302, 403), path
    assert client.get("/moderation/").status_code == 200  # their own page


def test_ordinary_users_are_not_moderators(owner):
    assert not user_is_moderator(user=owner)
    owner.groups.add(Group.objects.get(name="moderator"))
    owner = User.objects.get(pk=owner.pk)
    assert not user_is_moderator(user=owner)  # the group alone is not enough: staff too


def test_admins_grant_credits_in_the_admin(client, admin_user, owner):
    client.force_login(admin_user)
    page = client.get(f"/admin/accounts/creditentry/add/?user={owner.pk}")
    assert page.status_code == 200
    response = client.post(
        "/admin/accounts/creditentry/add/",
        {"user": owner.pk, "amount": 250, "reason": "Beta tester"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = CreditEntry.objects.get(user=owner)
    assert (entry.kind, entry.amount, entry.granted_by) == ("grant", 250, admin_user)
    assert credit_balance(user=owner) == 250

    refused = client.post(
        "/admin/accounts/creditentry/add/", {"user": owner.pk, "amount": -5, "reason": "Oops"}
    )
    assert refused.status_code == 200
    assert credit_balance(user=owner) == 250


def test_the_ledger_cannot_be_edited_or_deleted_in_the_admin(client, admin_user, owner):
    entry = credits_grant(user=owner, amount=10, reason="Welcome")
    client.force_login(admin_user)
    client.post(
        f"/admin/accounts/creditentry/{entry.pk}/change/",
        {"user": owner.pk, "amount": 9999, "reason": "Edited"},
    )
    assert client.get(f"/admin/accounts/creditentry/{entry.pk}/delete/").status_code == 403
    entry.refresh_from_db()
    assert entry.amount == 10


def test_the_user_page_shows_the_balance_and_the_make_moderator_action(client, admin_user, owner):
    client.force_login(admin_user)
    html = client.get(f"/admin/accounts/user/{owner.pk}/change/").content.decode()
    assert "0 credits on the Free plan" in html
    client.post(
        "/admin/accounts/user/",
        {"action": "make_moderator", "_selected_action": [owner.pk]},
    )
    owner = User.objects.get(pk=owner.pk)
    assert user_is_moderator(user=owner)


def test_plans_are_edited_in_the_admin_with_one_default(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/admin/accounts/plan/add/",
        {
            "name": "Pro",
            "is_default": "on",
            "signup_credits": 500,
            "max_models": 5,
            "max_trainings_per_month": 10,
            "max_generations_per_day": 500,
            "max_storage_bytes": "",
        },
    )
    assert response.status_code == 302
    assert list(Plan.objects.filter(is_default=True).values_list("name", flat=True)) == ["Pro"]


def test_granting_the_moderator_role_recreates_the_group_if_needed(owner):
    Group.objects.filter(name="moderator").delete()
    user_moderator_grant(user=owner)
    assert user_is_moderator(user=User.objects.get(pk=owner.pk))
