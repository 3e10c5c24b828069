"""What the accounts app needs from moderation: account erasure and data export.

A user's stopped prompts are theirs: erased with the account and part of their export (without
the rule that stopped them). Audit records written by an administrator stay when that
administrator's account goes; their foreign key empties (the trail keeps what was done).
"""

from .models import PromptBlock, Strike, Suspension


def erase_moderation_data(*, user) -> None:
    PromptBlock.objects.filter(user=user).delete()
    Strike.objects.filter(user=user).delete()
    Suspension.objects.filter(user=user).delete()


def export_prompt_blocks(*, user, archive) -> None:
    rows = [
        {
            "prompt": block.prompt,
            "category": block.get_category_display(),
            "action": block.get_action_display(),
            "source": block.source,
            "created_at": block.created_at.isoformat(),
        }
        for block in PromptBlock.objects.filter(user=user).order_by("created_at")
    ]
    if rows:
        archive.add_json("moderation/stopped_prompts.json", rows)
