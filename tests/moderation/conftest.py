import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from moderation.models import PromptRule
from moderation.prompts import RuleSet, compile_rules
from tests.factories import UserFactory

RULE_FIELDS = ("id", "kind", "text", "category", "action", "context", "exceptions")


@pytest.fixture(scope="session")
def starter_rules(django_db_setup, django_db_blocker) -> RuleSet:
    """The rules the data migration ships, compiled once for the whole session."""
    with django_db_blocker.unblock():
        rows = list(PromptRule.objects.filter(is_active=True).values(*RULE_FIELDS))
    assert len(rows) > 150
    return compile_rules(rows, version="starter")


@pytest.fixture
def admin_user(db):
    return User.objects.create_superuser(email="boss@example.com", password="x-pass-phrase-1")


@pytest.fixture
def moderator(db):
    user = UserFactory(email="mod@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name="moderator"))
    return user
