# The site's one date format ("30 Nov 2026, 14:05"). Django 5 always localises, so the
# DATE_FORMAT settings alone would lose to Django's own English formats: FORMAT_MODULE_PATH
# (config/settings/display.py) points here and these win. Unset names keep Django's English.
DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
MONTH_DAY_FORMAT = "j M"
TIME_FORMAT = "H:i"
