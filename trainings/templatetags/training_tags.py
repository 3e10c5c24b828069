"""Template helpers of the trainings pages and e-mails."""

from django import template
from django.conf import settings

from ..dashboard import generate_url
from ..failure_advice import training_failure_advice

register = template.Library()


@register.simple_tag
def failure_advice(run):
    """`{% failure_advice run as advice %}`: what went wrong and what to do (or None)."""
    return training_failure_advice(run=run)


@register.simple_tag
def generate_link(lora_model):
    """The generate page with `lora_model` chosen, as a full address (for e-mails)."""
    return f"{settings.PUBLIC_BASE_URL}{generate_url(lora_model=lora_model)}"
