"""Opaque ids, step 2: a random one for each existing row (its own migration: PostgreSQL
refuses to alter a table in the transaction that updated its rows)."""

import uuid

from django.db import migrations


def fill_public_ids(apps, schema_editor):
    for model_name in ("User", "CreditEntry"):
        model = apps.get_model("accounts", model_name)
        rows = model.objects.filter(public_id__isnull=True).only("pk")
        for row in rows.iterator(chunk_size=2000):
            model.objects.filter(pk=row.pk).update(public_id=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_public_ids_add"),
    ]

    operations = [
        migrations.RunPython(fill_public_ids, migrations.RunPython.noop, elidable=True),
    ]
