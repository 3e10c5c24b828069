from django import template

from accounts.admin import admin_site_has_permission

register = template.Library()


@register.simple_tag(takes_context=True)
def administers(context) -> bool:
    """Whether the signed-in person may see the admin and the operator dashboard."""
    request = context.get("request")
    return request is not None and admin_site_has_permission(request)
