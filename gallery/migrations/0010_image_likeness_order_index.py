# Issue 15: `ordering=-likeness` sorted all of a user's images on every page (215 ms for 20,000,
# bench/gallery_api.py); this index hands PostgreSQL the rows already in that order.
#
# The expression is the list's own (gallery.selectors.LIKENESS_KEY, copied here as it was: a
# migration must not change when the code does), compiled by Django so that the index and the
# query say the same thing. PostgreSQL only: SQLite (the embedded mode) has small galleries.

from django.db import migrations, models
from django.db.models import BigIntegerField, ExpressionWrapper, F, Value
from django.db.models.functions import Cast, Coalesce, Extract

INDEX_NAME = "gallery_image_likeness_order"


def _index() -> models.Index:
    likeness_key = ExpressionWrapper(
        (Coalesce(F("likeness"), Value(-1)) + Value(1)) * Value(10**16)
        + Cast(Extract("created_at", "epoch") * Value(1_000_000), BigIntegerField()),
        output_field=BigIntegerField(),
    )
    return models.Index(
        F("owner"), F("moderation_state"), likeness_key.desc(), F("id").desc(), name=INDEX_NAME
    )


def index_add(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.add_index(apps.get_model("gallery", "GeneratedImage"), _index())


def index_remove(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.remove_index(apps.get_model("gallery", "GeneratedImage"), _index())


class Migration(migrations.Migration):
    dependencies = [
        ("gallery", "0009_image_likeness"),
    ]

    operations = [migrations.RunPython(index_add, index_remove)]
