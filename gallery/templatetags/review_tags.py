"""Template helpers of the moderation pages and of the header's "Moderation" link."""

from django import template

from accounts.selectors import user_is_moderator

register = template.Library()


@register.filter
def moderates(user) -> bool:
    """`{% if user|moderates %}`: the signed-in person may use the moderation pages."""
    return user is not None and user_is_moderator(user=user)
