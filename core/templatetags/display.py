"""How values read on every page: parameter labels and the one date format.

`{% load display %}` then `{{ key|param_label }}`, `{{ value|param_value }}`,
`{{ moment|datetime_display }}` ("30 Nov 2026, 14:05") and `{{ day|date_display }}`
("30 Nov 2026"). The formats are the site's (config/formats/en/formats.py), so `{{ moment }}`
and `{{ moment|date }}` read the same.
"""

from __future__ import annotations

import datetime

from django import template
from django.utils import formats, timezone

from core import labels

register = template.Library()


@register.filter
def param_label(key) -> str:
    return labels.param_label(key)


@register.filter
def param_value(value) -> str:
    return labels.param_value(value)


@register.filter
def datetime_display(value) -> str:
    """A moment in the site's time zone, "30 Nov 2026, 14:05"; a bare date shows as a date."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return formats.date_format(value, "DATETIME_FORMAT")
    if isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


@register.filter
def date_display(value) -> str:
    """A day, "30 Nov 2026"."""
    if not value:
        return ""
    if isinstance(value, datetime.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    if isinstance(value, datetime.date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)
