"""The site's form renderer, and showing a service's domain error on the form that sent it."""

from functools import cached_property
from pathlib import Path

import django.forms
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates

from .exceptions import DomainError, InvalidInput


def form_error_add(
    form: forms.BaseForm, error: DomainError, *, field_names: dict[str, str] | None = None
) -> None:
    """Put `error` on `form`: on the field it names when the form has one, else on the form.

    `field_names` maps a service's field name to the form's where they differ
    (`{"extra_lora": "style"}`). A message for a field the form lacks keeps the field's name.
    """
    field_names = field_names or {}
    errors = error.errors if isinstance(error, InvalidInput) else {error.field: [error.message]}
    for field, messages in errors.items():
        name = field_names.get(field, field)
        target = name if name in form.fields else None
        for message in messages:
            if target is None and field:
                message = f"{field.replace('_', ' ').capitalize()}: {message}"
            form.add_error(target, message)


class SiteFormRenderer(DjangoTemplates):
    """Renders every `{{ form }}` and `{{ field.as_field_group }}` in the site's style.

    Django's own renderer reads only its built-in and the apps' templates; this one also reads
    the project's `templates/` (forms/form.html, forms/field.html), so forms of other apps and
    of allauth take the same markup without their templates changing.
    """

    form_template_name = "forms/form.html"
    field_template_name = "forms/field.html"

    @cached_property
    def engine(self):
        return self.backend(
            {
                "APP_DIRS": True,
                "DIRS": [
                    Path(settings.BASE_DIR) / "templates",
                    Path(django.forms.__file__).parent / "templates",
                ],
                "NAME": "site-forms",
                "OPTIONS": {},
            }
        )
