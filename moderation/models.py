"""Prompt rules, the prompts they stopped, and the audit trail of moderation decisions."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class Category(models.TextChoices):
    """What a rule is about. The order below is the order of seriousness (first: most)."""

    MINORS = "minors", "Minors"
    SEXUAL = "sexual", "Sexual content"
    VIOLENCE = "violence", "Violence and gore"
    SELF_HARM = "self_harm", "Self-harm"
    HATE = "hate", "Hate"
    PUBLIC_FIGURE = "public_figure", "Real public figures"
    OTHER = "other", "Other"


class RuleAction(models.TextChoices):
    BLOCK = "block", "Block the request"
    REVIEW = "review", "Send the outputs to review"


class PromptRule(models.Model):
    """A word, phrase or regular expression that stops a prompt, or sends its outputs to review.

    Edited in the admin; each process recompiles the active rules when they change (see
    moderation.prompts). Words and phrases are matched on the normalised prompt (case, accents,
    leetspeak, spaced-out letters, stretched letters, plurals); several may be given, separated
    by "|". A word ending in "*" matches any word it begins ("decapitat*").
    """

    class Kind(models.TextChoices):
        WORD = "word", "Word(s)"
        PHRASE = "phrase", "Phrase(s)"
        PATTERN = "pattern", "Regular expression"

    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.WORD)
    text = models.TextField(
        help_text=(
            'Words or phrases separated by "|" (a trailing * matches the beginning of a word), '
            "or one regular expression, matched on the lower-cased prompt without accents."
        )
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    action = models.CharField(max_length=10, choices=RuleAction.choices, default=RuleAction.BLOCK)
    context = models.TextField(
        blank=True,
        help_text=(
            "Optional. The rule fires only if one of these also appears somewhere in the prompt: "
            'words or phrases separated by "|", or /a regular expression/ between slashes.'
        ),
    )
    exceptions = models.TextField(
        blank=True,
        help_text=(
            'Optional. Phrases that make a match innocent where they contain it (e.g. "naked '
            'eye" for the rule "naked"), same syntax as the context.'
        ),
    )
    is_active = models.BooleanField(default=True, db_index=True)
    note = models.TextField(blank=True, help_text="Why the rule exists; for administrators.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    # What an audit record shows of a rule, before and after a change.
    AUDITED_FIELDS = ("kind", "text", "category", "action", "context", "exceptions", "is_active")

    class Meta:
        ordering = ["category", "id"]
        indexes = [models.Index(fields=["category", "action"])]

    def __str__(self):
        text = self.text if len(self.text) <= 60 else self.text[:57] + "…"
        return f"#{self.pk} {self.get_category_display()}: {text}"

    def clean(self):
        from .prompts import rule_errors  # the matcher owns the syntax

        errors = rule_errors(
            kind=self.kind, text=self.text, context=self.context, exceptions=self.exceptions
        )
        if errors:
            raise ValidationError(errors)

    def snapshot(self) -> dict:
        return {name: getattr(self, name) for name in self.AUDITED_FIELDS}


class PromptBlock(models.Model):
    """A prompt a rule stopped or sent to review: for the moderation page, never shown to users
    with its rule. Deleted with the user's account."""

    class Action(models.TextChoices):
        BLOCKED = "blocked", "Blocked"
        REVIEW = "review", "Sent to review"

    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "API"
        SIMPLE_API = "simple_api", "Simple API"
        PRESET = "preset", "Style preset"
        RERUN = "rerun", "Rerun"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="prompt_blocks",
    )
    prompt = models.TextField()
    category = models.CharField(max_length=20, choices=Category.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    # Not a foreign key: the record outlives an edited or deleted rule. Moderators only.
    rule_id = models.PositiveBigIntegerField(null=True, blank=True)
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.WEB)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["category", "-created_at"]),
            models.Index(fields=["user", "-created_at"]),
        ]

    def __str__(self):
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{self.get_action_display()} ({self.get_category_display()}) {when}"


class AuditRecord(models.Model):
    """Who did what to which object, when and why. Append-only; read-only in the admin.

    Generic: `object_type` is "app_label.model" and `object_id` a string, so rules, images and
    any later moderated object share one trail. The actor is kept as a foreign key only: when
    an administrator's account is erased the record stays, without its author.
    """

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=50, help_text='e.g. "prompt_rule.change"')
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    changes = models.JSONField(
        default=dict,
        blank=True,
        encoder=DjangoJSONEncoder,
        help_text='{"before": {...}, "after": {...}}',
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-created_at"])]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class Strike(models.Model):
    """One count against a user: a picture a moderator rejected, or a prompt a rule blocked in
    a category that counts (MODERATION_STRIKE_CATEGORIES). Past MODERATION_STRIKE_LIMIT since
    the last lifted suspension, the account is suspended from generating and training."""

    class Kind(models.TextChoices):
        REJECTED_IMAGE = "rejected_image", "Picture rejected"
        BLOCKED_PROMPT = "blocked_prompt", "Prompt blocked"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="moderation_strikes"
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    # What it is for ("image:<id>", "prompt_block:<id>"): the same thing never counts twice.
    reference = models.CharField(max_length=120)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "reference"], name="strike_once_per_thing"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} ({self.get_category_display()})"


class Suspension(models.Model):
    """A user suspended from generating and training, with their appeal and its outcome.

    One row per user: lifting keeps the row (and its history in the audit trail); a later
    suspension reuses it. Only strikes after `lifted_at` count towards the next one.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="moderation_suspension",
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)
    appeal = models.TextField(max_length=2000, blank=True)
    appealed_at = models.DateTimeField(null=True, blank=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    lift_reason = models.CharField(max_length=300, blank=True)

    def __str__(self):
        return f"Suspension of {self.user_id} ({'lifted' if self.lifted_at else 'active'})"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None
