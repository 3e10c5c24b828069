"""The consent selfie's panel on a model's page, and why a held training waits."""

from django import template
from django.conf import settings

from likeness import selectors, services
from likeness.models import IdentityCheck

register = template.Library()


@register.inclusion_tag("likeness/_selfie_panel.html", takes_context=True)
def selfie_panel(context, lora_model):
    """The decision on the model's identity, if any; until a check passed, the selfie form and
    what was taken."""
    request = context["request"]
    required = services.selfie_required(lora_model=lora_model)
    latest = selectors.identity_check_latest(user=request.user, lora_model=lora_model)
    return {
        "lora_model": lora_model,
        "required": required,
        "latest": latest,
        "taken": latest is not None and latest.outcome == IdentityCheck.Outcome.SELFIE_TAKEN,
        "waiting": latest is not None and latest.outcome == IdentityCheck.Outcome.WAITING,
        "keep_hours": settings.SELFIE_KEEP_HOURS,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag
def identity_wait_reason(run) -> str:
    """Why `run` waits for a moderator (empty when it does not)."""
    check = run.identity_checks.filter(outcome=IdentityCheck.Outcome.WAITING).first()
    return check.reason if check else ""


@register.simple_tag
def selfie_keep_hours() -> int:
    """How long a selfie no training used is kept (the privacy page states the setting)."""
    return settings.SELFIE_KEEP_HOURS
