"""How pages look: the form renderer and the date formats (star-imported by base.py)."""

# Every `{{ form }}` and `{{ field.as_field_group }}` renders with the site's field markup.
FORM_RENDERER = "core.forms.SiteFormRenderer"

# Django 5 always localises dates, so DATE_FORMAT here would lose to the locale's English
# format: the site's formats live in a format module (config/formats/en/formats.py).
FORMAT_MODULE_PATH = ["config.formats"]
