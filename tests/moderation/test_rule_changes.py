"""Rules are compiled once per process and picked up after a change without a restart; every
change is audited with its author and reason."""

import pytest
from django.core.cache import cache

from moderation.models import AuditRecord, PromptRule
from moderation.prompts import VERSION_CACHE_KEY, active_rules, prompt_screen, rules_version
from moderation.services import prompt_rule_delete, prompt_rule_save, prompt_rules_set_active

pytestmark = pytest.mark.django_db


def _rule(**fields):
    defaults = {"kind": "word", "text": "zorblax", "category": "other", "action": "block"}
    return PromptRule(**{**defaults, **fields})


def test_a_saved_rule_is_seen_by_the_next_screen(admin_user):
    assert prompt_screen("a zorblax on the moon") is None
    rule = prompt_rule_save(rule=_rule(), actor=admin_user, reason="New threat")
    verdict = prompt_screen("a zorblax on the moon")
    assert (verdict.category, verdict.action, verdict.rule_id) == ("other", "block", rule.pk)

    rule.action = "review"
    prompt_rule_save(rule=rule, actor=admin_user, reason="Softer")
    assert prompt_screen("a zorblax on the moon").action == "review"

    prompt_rules_set_active(rules=[rule], is_active=False, actor=admin_user, reason="Off")
    assert prompt_screen("a zorblax on the moon") is None

    prompt_rules_set_active(rules=[rule], is_active=True, actor=admin_user, reason="On")
    prompt_rule_delete(rule=rule, actor=admin_user, reason="Gone")
    assert prompt_screen("a zorblax on the moon") is None


def test_rules_are_not_read_from_the_database_per_screen(django_assert_num_queries):
    active_rules()  # compiled once
    with django_assert_num_queries(0):
        for _ in range(20):
            prompt_screen("a nude portrait")


def test_a_change_in_another_process_arrives_through_the_cache_version():
    compiled = active_rules()
    # Another process adds a rule (bulk_create: no signal runs here) and bumps the version
    # in the shared cache, as its signals do.
    PromptRule.objects.bulk_create([PromptRule(kind="word", text="quibbleflux", category="other")])
    assert prompt_screen("quibbleflux") is None  # this process still uses its compiled set
    assert active_rules() is compiled
    cache.set(VERSION_CACHE_KEY, "bumped-by-another-process", None)
    assert prompt_screen("quibbleflux") is not None
    assert active_rules() is not compiled


def test_the_version_is_bumped_again_after_the_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        PromptRule.objects.create(kind="word", text="plonkwhistle", category="other")
    during = rules_version()
    for callback in callbacks:
        callback()
    assert rules_version() != during


def test_a_lost_cache_entry_means_one_recompile():
    first = active_rules()
    cache.delete(VERSION_CACHE_KEY)
    second = active_rules()
    assert second is not first
    assert active_rules() is second


def test_an_invalid_rule_is_refused_and_a_broken_row_never_stops_the_others(admin_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        prompt_rule_save(rule=_rule(kind="pattern", text="(unclosed"), actor=admin_user)
    assert "text" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        prompt_rule_save(rule=_rule(context="/[bad/"), actor=admin_user)
    assert "context" in error.value.message_dict
    # A row saved around validation: skipped, the rest still work.
    PromptRule.objects.create(kind="pattern", text="(unclosed", category="other")
    assert prompt_screen("a naked man").category == "sexual"


def test_every_change_is_audited_with_who_what_and_why(admin_user):
    rule = prompt_rule_save(rule=_rule(), actor=admin_user, reason="Seen in the wild")
    created = AuditRecord.objects.get(action="prompt_rule.create", object_id=str(rule.pk))
    assert created.actor == admin_user
    assert created.reason == "Seen in the wild"
    assert created.object_type == "moderation.promptrule"
    assert created.changes["after"]["text"] == "zorblax"
    assert rule.created_by == admin_user and rule.updated_by == admin_user

    rule.text = "zorblax|zorblox"
    rule.note = "notes are not audited on their own"
    prompt_rule_save(rule=rule, actor=admin_user, reason="Variant")
    changed = AuditRecord.objects.get(action="prompt_rule.change", object_id=str(rule.pk))
    assert changed.changes == {
        "before": {"text": "zorblax"},
        "after": {"text": "zorblax|zorblox"},
    }
    assert changed.reason == "Variant" and changed.actor == admin_user
    assert "text" in changed.summary

    rule_id = rule.pk
    prompt_rule_delete(rule=rule, actor=admin_user, reason="False positives")
    deleted = AuditRecord.objects.get(action="prompt_rule.delete", object_id=str(rule_id))
    assert deleted.actor == admin_user and deleted.reason == "False positives"
    assert deleted.changes["before"]["text"] == "zorblax|zorblox"


def test_a_change_made_outside_the_services_is_still_audited():
    rule = PromptRule.objects.create(kind="word", text="snergle", category="other")
    record = AuditRecord.objects.get(action="prompt_rule.create", object_id=str(rule.pk))
    assert record.actor is None


def test_the_starter_set_is_recorded_in_the_audit_trail():
    record = AuditRecord.objects.get(action="prompt_rule.starter_set")
    assert "prompt rules" in record.summary
