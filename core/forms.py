"""Showing a service's domain error on the HTML form that sent the request."""

from django import forms

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
