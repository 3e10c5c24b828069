"""Writes of the moderation app: prompt rules (audited) and stopped prompts.

The audit trail is `moderation.audit`; strikes and suspensions, `moderation.strikes`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction

from core.exceptions import DomainError

from .audit import audit_record
from .models import AuditRecord, PromptBlock, PromptRule, RuleAction
from .prompts import Verdict, prompt_screen
from .strikes import strike_add


class PromptBlocked(DomainError):
    """A prompt a rule blocks. The message names the category, never the rule."""

    code = "prompt_blocked"

    def __init__(self, verdict: Verdict):
        super().__init__(verdict.message, field="prompt")
        self.verdict = verdict


def prompt_rule_audit(
    *,
    rule: PromptRule,
    actor=None,
    reason: str = "",
    before: dict | None = None,
    created: bool = False,
    deleted: bool = False,
) -> AuditRecord | None:
    """The audit record of one rule change (called by moderation.signals on every change)."""
    after = None if deleted else rule.snapshot()
    if deleted:
        action, summary = "prompt_rule.delete", f"Deleted rule #{rule.pk}"
    elif created or before is None:
        action, summary = "prompt_rule.create", f"Created rule #{rule.pk}"
    else:
        changed = [name for name in PromptRule.AUDITED_FIELDS if before.get(name) != after[name]]
        if not changed:
            return None  # saved without a change (e.g. the note alone)
        action = "prompt_rule.change"
        summary = f"Changed rule #{rule.pk}: {', '.join(changed)}"
        before = {name: before[name] for name in changed}
        after = {name: after[name] for name in changed}
    summary += f" ({rule.get_category_display()}, {rule.action})"
    return audit_record(
        actor=actor,
        action=action,
        target=rule,
        object_id=rule.pk,
        summary=summary,
        before=before,
        after=after,
        reason=reason,
    )


# --- Prompt rules ---------------------------------------------------------------------------


@transaction.atomic
def prompt_rule_save(*, rule: PromptRule, actor, reason: str = "") -> PromptRule:
    """Create or change a rule (validated); audited with `actor` and `reason`."""
    rule.full_clean(exclude=["created_by", "updated_by"])
    if rule.pk is None:
        rule.created_by = actor
    rule.updated_by = actor
    rule._audit_actor, rule._audit_reason = actor, reason
    rule.save()
    return rule


@transaction.atomic
def prompt_rule_delete(*, rule: PromptRule, actor, reason: str = "") -> None:
    rule._audit_actor, rule._audit_reason = actor, reason
    rule.delete()


@transaction.atomic
def prompt_rules_set_active(
    *, rules: Iterable[PromptRule], is_active: bool, actor, reason: str = ""
) -> int:
    changed = 0
    for rule in rules:
        if rule.is_active != is_active:
            rule.is_active = is_active
            prompt_rule_save(rule=rule, actor=actor, reason=reason)
            changed += 1
    return changed


# --- Stopped prompts ------------------------------------------------------------------------


def prompt_block_record(*, user, prompt: str, verdict: Verdict, source: str) -> PromptBlock:
    """Record a prompt a rule blocked or sent to review, for the moderation page."""
    return PromptBlock.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        prompt=prompt,
        category=verdict.category,
        action=(
            PromptBlock.Action.BLOCKED
            if verdict.action == RuleAction.BLOCK
            else PromptBlock.Action.REVIEW
        ),
        rule_id=verdict.rule_id,
        source=source,
    )


def prompt_guard(*, user, prompt: str, source: str) -> Verdict | None:
    """Screen a prompt before anything is charged or sent: the one call generation makes.

    Returns None (go ahead) or a review verdict (go ahead, hold the outputs for review); a
    blocked prompt is recorded and raises PromptBlocked. Call it outside the transaction that
    creates the generation, or the record would be rolled back with it.
    """
    verdict = prompt_screen(prompt)
    if verdict is None:
        return None
    block = prompt_block_record(user=user, prompt=prompt, verdict=verdict, source=source)
    if verdict.blocks:
        if user is not None and user.is_authenticated:
            strike_add(
                user=user,
                kind="blocked_prompt",
                category=verdict.category,
                reference=f"prompt_block:{block.pk}",
            )
        raise PromptBlocked(verdict)
    return verdict
