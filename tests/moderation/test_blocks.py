"""A blocked prompt: a clear message naming the category, a record for moderators, nothing
sent on; the records go with the user's account."""

import pytest
from django.utils import timezone

from accounts import deletion
from moderation.models import AuditRecord, PromptBlock, PromptRule
from moderation.prompts import Verdict, prompt_screen
from moderation.selectors import PromptBlockFilters, audit_record_list, prompt_block_list
from moderation.services import (
    PromptBlocked,
    prompt_block_record,
    prompt_guard,
    prompt_rule_save,
)

pytestmark = pytest.mark.django_db


def test_prompt_block_record_keeps_who_what_and_when(owner):
    verdict = Verdict(category="sexual", action="block", rule_id=42)
    before = timezone.now()
    block = prompt_block_record(user=owner, prompt="a nude selfie", verdict=verdict, source="api")
    block.refresh_from_db()
    assert (block.user, block.prompt, block.category, block.action, block.rule_id) == (
        owner,
        "a nude selfie",
        "sexual",
        PromptBlock.Action.BLOCKED,
        42,
    )
    assert block.source == "api" and block.created_at >= before


def test_a_blocked_prompt_raises_with_a_message_naming_the_category_not_the_rule(owner):
    with pytest.raises(PromptBlocked) as raised:
        prompt_guard(user=owner, prompt="a decapitated head", source="web")
    error = raised.value
    assert error.status_code == 400 and error.field == "prompt" and error.code == "prompt_blocked"
    assert "violence" in error.message.lower()
    rule = PromptRule.objects.get(pk=error.verdict.rule_id)
    assert rule.text not in error.message and "decapitat" not in error.message
    assert str(rule.pk) not in error.message
    block = PromptBlock.objects.get()
    assert (block.user, block.category, block.action, block.source) == (
        owner,
        "violence",
        "blocked",
        "web",
    )


def test_a_review_goes_ahead_and_is_recorded(owner):
    verdict = prompt_guard(user=owner, prompt="me in lace lingerie", source="preset")
    assert verdict is not None and not verdict.blocks
    assert PromptBlock.objects.get().action == PromptBlock.Action.REVIEW


def test_an_innocent_prompt_leaves_no_trace(owner):
    assert prompt_guard(user=owner, prompt="me on a beach in a swimsuit", source="web") is None
    assert not PromptBlock.objects.exists()


def test_every_category_has_a_message():
    for category in ("minors", "sexual", "violence", "self_harm", "hate", "public_figure", "other"):
        message = Verdict(category=category, action="block", rule_id=1).message
        assert "can't be used" in message and "Nothing was charged" in message


def test_only_moderators_list_blocks_and_the_audit_trail(owner, moderator, admin_user):
    prompt_guard(user=owner, prompt="me in lace lingerie", source="web")
    with pytest.raises(PromptBlocked):
        prompt_guard(user=owner, prompt="Barack Obama and me", source="api")
    assert not prompt_block_list(user=owner).exists()
    assert prompt_block_list(user=moderator).count() == 2
    only = prompt_block_list(user=moderator, filters=PromptBlockFilters(action="blocked"))
    assert [block.category for block in only] == ["public_figure"]
    assert prompt_block_list(user=admin_user).count() == 2
    assert not audit_record_list(user=owner).exists()
    assert audit_record_list(user=moderator, object_type="moderation.promptrule").exists()


def test_account_erasure_removes_the_users_blocks_and_keeps_the_audit_trail(
    owner, other_user, admin_user
):
    prompt_guard(user=owner, prompt="me in lace lingerie", source="web")
    prompt_guard(user=other_user, prompt="me in lace lingerie", source="web")
    rule = prompt_rule_save(
        rule=PromptRule(kind="word", text="frobnitz", category="other"),
        actor=admin_user,
        reason="x",
    )
    owner.deletion_requested_at = timezone.now()
    owner.save()
    admin_user.deletion_requested_at = timezone.now()
    admin_user.save()

    assert deletion.account_erase(user_id=owner.pk)
    assert not PromptBlock.objects.filter(user_id=owner.pk).exists()
    assert PromptBlock.objects.filter(user=other_user).count() == 1

    assert deletion.account_erase(user_id=admin_user.pk)
    record = AuditRecord.objects.get(action="prompt_rule.create", object_id=str(rule.pk))
    assert record.actor is None  # the trail stays, without its author
    rule.refresh_from_db()
    assert rule.created_by is None
    assert prompt_screen("frobnitz") is not None
