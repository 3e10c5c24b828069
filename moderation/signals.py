"""Every change to a prompt rule, however it is made, bumps the rules' version and is audited.

The services (moderation.services) attach who made the change and why; a change made
elsewhere (a shell, a script) is still recorded, without an author.
"""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .models import PromptRule
from .prompts import rules_changed


def _bump_version() -> None:
    # Now, so this process and this transaction see the change at once, and again after the
    # commit, so a process that recompiled in between (still reading the old rows) recompiles.
    rules_changed()
    transaction.on_commit(rules_changed)


@receiver(pre_save, sender=PromptRule)
def remember_rule_before_change(sender, instance, raw=False, **kwargs):
    if raw or instance.pk is None:
        instance._audit_before = None
        return
    instance._audit_before = (
        PromptRule.objects.filter(pk=instance.pk).values(*PromptRule.AUDITED_FIELDS).first()
    )


@receiver(post_save, sender=PromptRule)
def rule_saved(sender, instance, created, raw=False, **kwargs):
    _bump_version()
    if raw:
        return
    from .services import prompt_rule_audit

    prompt_rule_audit(
        rule=instance,
        created=created,
        before=getattr(instance, "_audit_before", None),
        actor=getattr(instance, "_audit_actor", None),
        reason=getattr(instance, "_audit_reason", ""),
    )


@receiver(post_delete, sender=PromptRule)
def rule_deleted(sender, instance, **kwargs):
    _bump_version()
    from .services import prompt_rule_audit

    prompt_rule_audit(
        rule=instance,
        deleted=True,
        before=instance.snapshot(),
        actor=getattr(instance, "_audit_actor", None),
        reason=getattr(instance, "_audit_reason", ""),
    )
